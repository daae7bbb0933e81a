// The checks every option goes through: a bad value throws a TypeError or RangeError that names
// the option, the range it must be in and the value received (cockatiel's messages).

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean")
    return String(value);
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  return typeof value === "object"
    ? Array.isArray(value)
      ? "an array"
      : "an object"
    : String(value);
}

export function number(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number")
    throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (Number.isNaN(value)) throw new RangeError(`${name} must be a number, got NaN`);
  return value;
}

export function required(name: string, value: unknown): number {
  if (value === undefined) throw new TypeError(`${name} is required`);
  return number(name, value, NaN);
}

export function inRange(
  name: string,
  value: number,
  low: number,
  high: number,
  range: string,
): number {
  if (!(value >= low && value <= high))
    throw new RangeError(`${name} must be ${range}, got ${value}`);
  return value;
}

export const MAX = Number.MAX_VALUE;
export const POSITIVE = "a finite number > 0";
export const NON_NEGATIVE = "a finite number ≥ 0";

/** `source[key]` (or `fallback` when absent): a number in [low, high], `range` in words. */
export function real(
  source: Record<string, unknown>,
  key: string,
  fallback: number,
  low: number,
  high: number,
  range: string,
  prefix = "",
): number {
  return inRange(prefix + key, number(prefix + key, source[key], fallback), low, high, range);
}

/** `source[key]` (or `fallback` when absent): an integer in [low, high]. */
export function int(
  source: Record<string, unknown>,
  key: string,
  fallback: number,
  low: number,
  high: number,
  prefix = "",
): number {
  return integer(prefix + key, number(prefix + key, source[key], fallback), low, high);
}

export function integer(name: string, value: number, low: number, high: number): number {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new RangeError(`${name} must be an integer in [${low}, ${high}], got ${value}`);
  }
  return value;
}

/** Checks the object itself and rejects keys nobody reads (a typo must not pass silently). */
export function checkObject(
  name: string,
  value: unknown,
  known: ReadonlySet<string>,
): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, got ${describe(value)}`);
  }
  // for…in rather than Object.keys: no array per call (do() checks its options on every call).
  for (const key in value) {
    if (Object.hasOwn(value, key) && !known.has(key)) {
      throw new TypeError(
        `${name} has an unknown option ${JSON.stringify(key)}; known: ${[...known].join(", ")}`,
      );
    }
  }
  return value as Record<string, unknown>;
}

/** An integer option in [low, high], or a TypeError/RangeError naming it. */
export function checkInteger(name: string, value: unknown, low: number, high: number): number {
  return integer(name, number(name, value, NaN), low, high);
}
