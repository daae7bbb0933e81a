// Errors a breaker raises. Each carries a brand, so the `isXxx()` guards work across duplicate
// copies of the package, where `instanceof` does not.

const OPEN_BRAND = Symbol.for("breakerbox.BreakerOpenError");
const TOO_MANY_BRAND = Symbol.for("breakerbox.TooManyRequestsError");

/**
 * Thrown (or passed to `fallback`) when a breaker drops a call: go-zero's ErrServiceUnavailable,
 * message "circuit breaker is open". Like go-zero's, it is one shared value: each breaker builds
 * its own once, frozen and without a stack trace, and reuses it for every drop. A drop is an
 * expected outcome, and building an Error per drop would cost ten times the rest of the call.
 */
export class BreakerOpenError extends Error {
  readonly [OPEN_BRAND] = true;
  /** The key of the breaker that dropped the call (undefined for a standalone breaker). */
  readonly key: string | undefined;
  /** 503: what Express, Fastify and Koa answer for it when it reaches their error handler. */
  readonly statusCode = 503;

  /**
   * Ms until the breaker that refused may let a call through, now (its `retryAfterMs`; undefined
   * when no end is known or the breaker is gone): what a `Retry-After` should say.
   */
  get retryAfterMs(): number | undefined {
    return askRetryAfter(this.#retryAfter);
  }

  readonly #retryAfter: (() => number | undefined) | undefined;

  /** `retryAfter`: asks the breaker that refused (Breaker.retryAfterMs). */
  constructor(key?: string, retryAfter?: () => number | undefined) {
    super("circuit breaker is open");
    this.#retryAfter = retryAfter;
    this.name = "BreakerOpenError";
    this.key = key;
  }
}

/** Asks a breaker for its retryAfterMs; a deleted breaker (it throws) knows nothing. */
function askRetryAfter(ask: (() => number | undefined) | undefined): number | undefined {
  try {
    return ask?.();
  } catch {
    return undefined;
  }
}

/** A frozen error built without a stack (V8 walks no frames while the limit is 0). */
function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return Object.freeze(make());
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** A breaker's shared BreakerOpenError. */
export function dropError(
  key: string | undefined,
  retryAfter?: () => number | undefined,
): BreakerOpenError {
  return withoutStack(() => new BreakerOpenError(key, retryAfter));
}

/** True for a BreakerOpenError from any copy of breakerbox. */
export function isBreakerOpenError(error: unknown): error is BreakerOpenError {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as Record<symbol, unknown>)[OPEN_BRAND] === true
  );
}

/**
 * Thrown (or passed to `fallback`) when a half-open three-state breaker already has all the probes
 * it allows: gobreaker's ErrTooManyRequests, message "too many requests". One frozen value per
 * breaker, like BreakerOpenError.
 */
export class TooManyRequestsError extends Error {
  readonly [TOO_MANY_BRAND] = true;
  /** The key of the breaker that rejected the call (undefined for a standalone breaker). */
  readonly key: string | undefined;
  /** 503, as BreakerOpenError's: the upstream is still recovering, not the caller over a quota. */
  readonly statusCode = 503;

  /** As BreakerOpenError's: ms until the breaker may let a probe through, now. */
  get retryAfterMs(): number | undefined {
    return askRetryAfter(this.#retryAfter);
  }

  readonly #retryAfter: (() => number | undefined) | undefined;

  /** `retryAfter`: asks the breaker that refused (Breaker.retryAfterMs). */
  constructor(key?: string, retryAfter?: () => number | undefined) {
    super("too many requests");
    this.#retryAfter = retryAfter;
    this.name = "TooManyRequestsError";
    this.key = key;
  }
}

/** A breaker's shared TooManyRequestsError. */
export function tooManyError(
  key: string | undefined,
  retryAfter?: () => number | undefined,
): TooManyRequestsError {
  return withoutStack(() => new TooManyRequestsError(key, retryAfter));
}

/** True for a TooManyRequestsError from any copy of breakerbox. */
export function isTooManyRequestsError(error: unknown): error is TooManyRequestsError {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as Record<symbol, unknown>)[TOO_MANY_BRAND] === true
  );
}

const TIMEOUT_BRAND = Symbol.for("breakerbox.TimeoutError");

/**
 * What `do()` rejects with when `fn` has not settled within `timeoutMs`: the call counts as a
 * failure (and as slow, for slow-call trips), and whatever `fn` does later changes nothing. The
 * signal `fn` was handed is aborted with this error.
 */
export class TimeoutError extends Error {
  readonly [TIMEOUT_BRAND] = true;
  /** The key of the breaker the call went through (undefined for a standalone breaker). */
  readonly key: string | undefined;
  readonly timeoutMs: number;

  constructor(timeoutMs: number, key?: string) {
    super(`the call did not settle within ${timeoutMs} ms`);
    this.name = "TimeoutError";
    this.key = key;
    this.timeoutMs = timeoutMs;
  }
}

/** True for a TimeoutError from any copy of breakerbox. */
export function isTimeoutError(error: unknown): error is TimeoutError {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as Record<symbol, unknown>)[TIMEOUT_BRAND] === true
  );
}
