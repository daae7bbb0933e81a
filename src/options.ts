// Options: their defaults, their checks, and what the core receives. Everything a user passes is
// checked here, at the edge; the core trusts the numbers it is given.

import type { EngineChoice } from "./engine.js";

/** The adaptive (Google SRE / go-zero) policy. Every default is go-zero's constant. */
export interface AdaptiveOptions {
  /** Length of the rolling window in ms. Default 10000 (go-zero: 10 s). */
  windowMs?: number;
  /** Buckets in the window, an integer in [1, 255]. Default 40 (250 ms each). windowMs / buckets must be ≥ 1 ms. */
  buckets?: number;
  /** The SRE multiplier K while the window is healthy, ≥ 1. Default 1.5. */
  k?: number;
  /** The floor K decays to as failing buckets accumulate, in [1, k]. Default 1.1. */
  minK?: number;
  /** Requests in the window below which nothing is dropped, ≥ 0. Default 5. */
  protection?: number;
  /** While dropping, one call is let through once this long (ms) passed since the last pass. Default 1000; Infinity turns it off. */
  forcePassMs?: number;
}

/** Options shared by `Breaker` and `BreakerBox`. */
export interface BreakerOptions extends AdaptiveOptions {
  /**
   * Clock in ms, called on every operation. Default: an amortised wall clock read about once per
   * ms under load (see README, "Time"). A reading below the previous one counts as the previous one.
   */
  now?: () => number;
  /** Seed for the drop draws, an integer in [0, 2^32). Default: from Math.random() once. */
  seed?: number;
  /** 'wasm', 'js' or 'auto' (default): wasm when it can compile here, else the TypeScript engine. */
  engine?: EngineChoice;
}

/** A checked adaptive policy, ready for the policy table. */
export interface AdaptivePolicy {
  readonly buckets: number;
  readonly bucketMs: number;
  readonly k: number;
  readonly minK: number;
  readonly protection: number;
  readonly forcePassMs: number;
}

export const ADAPTIVE_DEFAULTS = {
  windowMs: 10_000,
  buckets: 40,
  k: 1.5,
  minK: 1.1,
  protection: 5,
  forcePassMs: 1000,
} as const;

const BREAKER_KEYS = new Set(["windowMs", "buckets", "k", "minK", "protection", "forcePassMs", "now", "seed", "engine"]);

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  return typeof value === "object" ? (Array.isArray(value) ? "an array" : "an object") : String(value);
}

function number(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (Number.isNaN(value)) throw new RangeError(`${name} must be a number, got NaN`);
  return value;
}

function inRange(name: string, value: number, low: number, high: number, range: string): number {
  if (!(value >= low && value <= high)) throw new RangeError(`${name} must be ${range}, got ${value}`);
  return value;
}

function integer(name: string, value: number, low: number, high: number): number {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new RangeError(`${name} must be an integer in [${low}, ${high}], got ${value}`);
  }
  return value;
}

/** Checks the object itself and rejects keys nobody reads (a typo must not pass silently). */
export function checkObject(name: string, value: unknown, known: ReadonlySet<string>): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new TypeError(`${name} has an unknown option ${JSON.stringify(key)}; known: ${[...known].join(", ")}`);
    }
  }
  return value as Record<string, unknown>;
}

export function adaptivePolicy(options: Record<string, unknown>): AdaptivePolicy {
  const d = ADAPTIVE_DEFAULTS;
  const windowMs = inRange("windowMs", number("windowMs", options.windowMs, d.windowMs), Number.MIN_VALUE, Number.MAX_VALUE, "a finite number > 0");
  const buckets = integer("buckets", number("buckets", options.buckets, d.buckets), 1, 255);
  const bucketMs = windowMs / buckets;
  if (bucketMs < 1) {
    throw new RangeError(`windowMs / buckets must be ≥ 1 ms, got ${windowMs} / ${buckets} = ${bucketMs}`);
  }
  const k = inRange("k", number("k", options.k, d.k), 1, Number.MAX_VALUE, "a finite number ≥ 1");
  const minK = inRange("minK", number("minK", options.minK, Math.min(d.minK, k)), 1, k, `in [1, k = ${k}]`);
  const protection = inRange("protection", number("protection", options.protection, d.protection), 0, Number.MAX_VALUE, "a finite number ≥ 0");
  const forcePassMs = inRange("forcePassMs", number("forcePassMs", options.forcePassMs, d.forcePassMs), 0, Infinity, "a number ≥ 0 (Infinity turns it off)");
  return { buckets, bucketMs, k, minK, protection, forcePassMs };
}

export interface CheckedBreakerOptions {
  readonly policy: AdaptivePolicy;
  readonly now: (() => number) | undefined;
  readonly seed: number;
  readonly engine: EngineChoice;
}

export function checkBreakerOptions(name: string, value: unknown): CheckedBreakerOptions {
  const options = checkObject(name, value, BREAKER_KEYS);
  const policy = adaptivePolicy(options);
  const now = options.now;
  if (now !== undefined && typeof now !== "function") throw new TypeError(`now must be a function returning ms, got ${describe(now)}`);
  const seed = options.seed === undefined
    ? Math.floor(Math.random() * 4294967296)
    : integer("seed", number("seed", options.seed, 0), 0, 4294967295);
  const engine = options.engine ?? "auto";
  if (engine !== "wasm" && engine !== "js" && engine !== "auto") {
    throw new RangeError(`engine must be 'wasm', 'js' or 'auto', got ${describe(engine)}`);
  }
  return { policy, now: now as (() => number) | undefined, seed, engine };
}

/** The options a keyed breaker may override (per-key policy); the clock, seed and engine are the box's. */
export const POLICY_KEYS: ReadonlySet<string> = new Set(["windowMs", "buckets", "k", "minK", "protection", "forcePassMs"]);
