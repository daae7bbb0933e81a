// What counts as a failure, given once at creation rather than on every do(): resilience4j's
// recordExceptions/ignoreExceptions/recordResult, Sentinel's and cockatiel's handle predicates.
// A box's options are every breaker's default; a key's own options (box.get(key, options)) apply to
// its breaker; do()'s per-call `acceptable`, `excluded` and `isFailureResult` override both.

/** How a breaker's do() classifies what `fn` throws or returns. */
export interface Classify {
  /** Whether an error thrown by `fn` counts as a failure; false: a success. Default: every error. */
  isFailure?: (error: unknown) => boolean;
  /** Whether an error thrown by `fn` counts as neither success nor failure (checked first). */
  isExcluded?: (error: unknown) => boolean;
  /** Whether a value `fn` returns (or resolves to) counts as a failure; do() still returns it. */
  isFailureResult?: (value: unknown) => boolean;
}

export const CLASSIFY_KEYS = ["isFailure", "isExcluded", "isFailureResult"] as const;

/** The classifiers among `options`, checked (a TypeError naming one that is not a function). */
export function checkClassify(options: unknown): Classify | undefined {
  if (typeof options !== "object" || options === null) return undefined;
  let classify: Classify | undefined;
  for (const name of CLASSIFY_KEYS) {
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined) continue;
    if (typeof value !== "function")
      throw new TypeError(
        `${name} must be a function, got ${JSON.stringify(value) ?? typeof value}`,
      );
    classify ??= {};
    classify[name] = value as never;
  }
  return classify;
}

/** `options` without the classifiers; undefined when nothing else is left. */
export function withoutClassify(options: unknown): unknown {
  const rest: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  for (const name of CLASSIFY_KEYS) delete rest[name];
  return Object.keys(rest).length === 0 ? undefined : rest;
}
