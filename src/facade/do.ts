// do(fn) and the Permit of allow(): the ways to guard a call that settle it for the caller.

import {
  DECISION_MASK,
  DECISION_PASS,
  DECISION_TOO_MANY,
  OUTCOME_EXCLUDED,
  OUTCOME_FAILURE,
  OUTCOME_SUCCESS,
} from "../core/layout.js";
import { LazyAbort } from "./abort.js";
import type { Breaker } from "./breaker.js";
import { checkObject } from "./check.js";
import { checkTimeout } from "./check-options.js";
import { threeState } from "./control.js";
import type { Waiting } from "./deadlines.js";
import {
  type BreakerOpenError,
  TimeoutError,
  type TooManyRequestsError,
  tooManyError,
} from "./errors.js";
import { internals } from "./internals.js";
import { T_TIMEOUTS } from "./totals.js";

/** Options for `do()`. */
export interface DoOptions<R> {
  /** Whether an error thrown by `fn` still counts as a success (go-zero's Acceptable). Default: none does. */
  acceptable?: (error: unknown) => boolean;
  /** Whether an error thrown by `fn` counts as neither success nor failure (gobreaker's IsExcluded). Default: none. */
  excluded?: (error: unknown) => boolean;
  /** Whether a value `fn` returns or resolves to counts as a failure (it is still returned). */
  isFailureResult?: (value: unknown) => boolean;
  /** Called instead of throwing when the breaker rejects the call (go-zero's Fallback); its result is returned. */
  fallback?: (error: BreakerOpenError | TooManyRequestsError) => R;
  /**
   * The caller's signal. Already aborted: `do()` throws `signal.reason` without calling `fn` or
   * counting anything. Aborted while `fn` runs: `do()` rejects with `signal.reason` at once, the
   * call counts as neither success nor failure, and the signal `fn` was handed aborts too.
   */
  signal?: AbortSignal;
  /**
   * When `fn` returns a promise: how long (ms) it may take. Past it, `do()` rejects with a
   * TimeoutError, the call counts as a failure (and as slow), the signal `fn` was handed aborts,
   * and whatever `fn` does later changes nothing. Default: the breaker's or box's `timeoutMs`.
   */
  timeoutMs?: number;
}

/** What `fn` receives: a signal that aborts on the call's timeout and on the caller's signal. */
export interface CallContext {
  readonly signal: AbortSignal;
}

/** The context of a call nobody can abort: one, shared, made once. */
let never: CallContext | undefined;

/** One admitted call. Settle it once; later settlements do nothing. */
export interface Permit {
  /** The call succeeded; `durationMs` overrides the measured duration (for slow-call trips). */
  accept(durationMs?: number): void;
  /**
   * The call failed; `reason` is kept among the breaker's last failure reasons. With a three-state
   * breaker, `openForMs` opens it at once for at least that long (an upstream's Retry-After).
   */
  reject(reason?: string, openForMs?: number): void;
  /** The call counts as neither success nor failure (e.g. the caller's own abort). */
  exclude(): void;
}

/** A duration given to accept(): a finite number ≥ 0. */
export function checkDuration(durationMs: number): void {
  if (!(typeof durationMs === "number" && durationMs >= 0 && durationMs <= Number.MAX_VALUE)) {
    throw new RangeError(`durationMs must be a finite number ≥ 0, got ${String(durationMs)}`);
  }
}

/** `openForMs` given to reject(): for a three-state breaker, a finite number ≥ 0. */
export function checkOpenFor(breaker: Breaker, openForMs: number): void {
  threeState(breaker, "reject(…, openForMs)");
  if (!(typeof openForMs === "number" && openForMs >= 0 && openForMs <= Number.MAX_VALUE)) {
    throw new RangeError(`openForMs must be a finite number ≥ 0, got ${String(openForMs)}`);
  }
}

export class SlotPermit implements Permit {
  private settled = false;

  constructor(
    private readonly breaker: Breaker,
    private readonly generation: number,
    private readonly issuedAt: number,
  ) {}

  accept(durationMs?: number): void {
    if (durationMs !== undefined) checkDuration(durationMs);
    if (this.settled) return;
    this.settled = true;
    internals.settle(this.breaker, this.generation, OUTCOME_SUCCESS, this.issuedAt, durationMs);
  }

  reject(reason?: string, openForMs?: number): void {
    if (openForMs !== undefined) checkOpenFor(this.breaker, openForMs);
    if (this.settled) return;
    this.settled = true;
    if (reason !== undefined) internals.more(this.breaker).remember(reason);
    internals.settle(
      this.breaker,
      this.generation,
      OUTCOME_FAILURE,
      this.issuedAt,
      undefined,
      openForMs,
    );
  }

  exclude(): void {
    if (this.settled) return;
    this.settled = true;
    internals.settle(this.breaker, this.generation, OUTCOME_EXCLUDED, this.issuedAt);
  }
}

const isAsyncFunction = (fn: unknown): boolean =>
  (fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "AsyncFunction";

const DO_KEYS = new Set([
  "acceptable",
  "excluded",
  "fallback",
  "isFailureResult",
  "signal",
  "timeoutMs",
]);

/** do()'s arguments: a function, and options whose callbacks are functions and signal an AbortSignal. */
function checkDo(fn: unknown, options: unknown): void {
  if (typeof fn !== "function") {
    throw new TypeError(`fn must be a function, got ${JSON.stringify(fn) ?? typeof fn}`);
  }
  if (options === undefined) return;
  const checked = checkObject("do() options", options, DO_KEYS);
  for (const name of ["acceptable", "excluded", "fallback", "isFailureResult"]) {
    const value = checked[name];
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(
        `${name} must be a function, got ${JSON.stringify(value) ?? typeof value}`,
      );
    }
  }
  const signal = checked.signal as { aborted?: unknown } | undefined;
  if (
    signal !== undefined &&
    (typeof signal !== "object" || signal === null || typeof signal.aborted !== "boolean")
  ) {
    throw new TypeError("signal must be an AbortSignal");
  }
  if (checked.timeoutMs !== undefined) checkTimeout("timeoutMs", checked.timeoutMs);
}

/** A failure reason as text, whatever was thrown (a null-prototype object, a throwing getter…). */
export function reasonOf(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return "(a thrown value that cannot be read as text)";
  }
}

/** Breaker.do(): see there. */
export function runDo<R>(
  breaker: Breaker,
  fn: (call: CallContext) => R,
  options: DoOptions<R> | undefined,
): R {
  checkDo(fn, options);
  const signal = options?.signal;
  if (signal?.aborted) {
    if (isAsyncFunction(fn)) return Promise.reject(signal.reason) as R;
    throw signal.reason;
  }
  const code = internals.admit(breaker);
  if ((code & DECISION_MASK) !== DECISION_PASS) {
    const error =
      (code & DECISION_MASK) === DECISION_TOO_MANY ? tooMany(breaker) : breaker.openError();
    if (options?.fallback !== undefined) return options.fallback(error);
    if (isAsyncFunction(fn)) return Promise.reject(error) as R;
    throw error;
  }
  const generation = internals.store(breaker).generation(internals.slotOf(breaker));
  const issuedAt = internals.issuedAt(breaker);
  const timeoutMs = options?.timeoutMs ?? internals.context(breaker).timeoutMs;
  const guarded = timeoutMs !== undefined || signal !== undefined;
  never ??= Object.freeze({ signal: new AbortController().signal });
  // fn's signal is made only if fn asks for it: an AbortController costs ~2 µs here.
  const abort = guarded ? new LazyAbort() : undefined;
  const call = abort === undefined ? never : abort;
  let result: R;
  try {
    result = fn(call);
  } catch (error) {
    settleError(breaker, generation, issuedAt, error, options);
    throw error;
  }
  // A result with a `then` is a promise, or some thenable: the call is settled once, when it
  // settles (or times out, or the caller aborts), whatever the thenable does (a `then` that
  // throws, or calls back twice).
  let then: unknown;
  try {
    then = (result as { then?: unknown } | null | undefined)?.then;
  } catch (error) {
    settleError(breaker, generation, issuedAt, error, options);
    throw error;
  }
  if (typeof then !== "function") {
    settleValue(breaker, generation, issuedAt, result, options);
    return result;
  }
  const call_: Call = { breaker, generation, issuedAt, options, done: false };
  if (abort === undefined) return awaitResult(call_, result, then) as R;
  return new Promise((resolve, reject) => {
    const deadlines = timeoutMs === undefined ? undefined : internals.context(breaker).deadlines();
    const finish = () => {
      call_.done = true;
      if (waiting !== undefined) deadlines?.settled(waiting);
      signal?.removeEventListener("abort", onAbort);
    };
    const waiting: Waiting | undefined =
      timeoutMs === undefined
        ? undefined
        : {
            at: Date.now() + timeoutMs,
            done: false,
            expire: () => {
              if (call_.done) return;
              finish();
              const error = new TimeoutError(timeoutMs, breaker.key);
              internals.more(breaker).remember(error.message);
              internals.settle(breaker, generation, OUTCOME_FAILURE, issuedAt, timeoutMs);
              internals.tally(breaker, T_TIMEOUTS);
              abort.abort(error);
              reject(error);
            },
          };
    const onAbort = () => {
      if (call_.done) return;
      finish();
      internals.settle(breaker, generation, OUTCOME_EXCLUDED, issuedAt); // the caller's own abort
      abort.abort(signal?.reason);
      reject(signal?.reason);
    };
    if (waiting !== undefined) deadlines?.add(waiting);
    signal?.addEventListener("abort", onAbort);
    if (signal?.aborted) onAbort(); // aborted inside fn
    const settle = (ok: boolean, value: unknown) => {
      if (call_.done) return;
      finish();
      if (ok) {
        try {
          settleValue(breaker, generation, issuedAt, value, options);
        } catch (thrown) {
          reject(thrown); // a throwing `isFailureResult`: its error surfaces
          return;
        }
        resolve(value);
        return;
      }
      try {
        settleError(breaker, generation, issuedAt, value, options);
      } catch (thrown) {
        reject(thrown); // a throwing `acceptable` or `excluded`: its error surfaces
        return;
      }
      reject(value);
    };
    try {
      (then as (ok: (v: unknown) => void, fail: (e: unknown) => void) => unknown).call(
        result,
        (value) => settle(true, value),
        (error) => settle(false, error),
      );
    } catch (error) {
      settle(false, error);
    }
  }) as R;
}

/** A call admitted by do(), and whether it is settled. */
interface Call {
  readonly breaker: Breaker;
  readonly generation: number;
  readonly issuedAt: number;
  readonly options: DoOptions<unknown> | undefined;
  done: boolean;
}

/**
 * `then.call(result, …)`, settling `call` once: with the value or error the thenable gives, or
 * with the error its `then` throws (rethrown, as `do()` always did). Returns what `then` returns.
 */
function awaitResult(call: Call, result: unknown, then: unknown): unknown {
  const { breaker, generation, issuedAt, options } = call;
  try {
    return (then as (ok: (v: unknown) => unknown, fail: (e: unknown) => unknown) => unknown).call(
      result,
      (value: unknown) => {
        if (!call.done) {
          call.done = true;
          settleValue(breaker, generation, issuedAt, value, options);
        }
        return value;
      },
      (error: unknown) => {
        if (!call.done) {
          call.done = true;
          settleError(breaker, generation, issuedAt, error, options);
        }
        throw error;
      },
    );
  } catch (error) {
    if (!call.done) {
      call.done = true;
      settleError(breaker, generation, issuedAt, error, options);
    }
    throw error;
  }
}

/** The breaker's one TooManyRequestsError, made on first use. */
function tooMany(breaker: Breaker): TooManyRequestsError {
  const extra = internals.more(breaker);
  extra.tooManyError ??= tooManyError(breaker.key, () => breaker.retryAfterMs);
  return extra.tooManyError;
}

function settleError(
  breaker: Breaker,
  generation: number,
  issuedAt: number,
  error: unknown,
  options: DoOptions<unknown> | undefined,
): void {
  let outcome = OUTCOME_FAILURE;
  try {
    const classify = internals.classify(breaker);
    const excluded = options?.excluded ?? classify?.isExcluded;
    const acceptable = options?.acceptable;
    if (excluded?.(error) === true) outcome = OUTCOME_EXCLUDED;
    else if (acceptable !== undefined) {
      if (acceptable(error) === true) outcome = OUTCOME_SUCCESS;
    } else if (classify?.isFailure?.(error) === false) outcome = OUTCOME_SUCCESS;
  } finally {
    // A throwing `acceptable` or `excluded` still settles the call, as a failure, before its error propagates.
    if (outcome === OUTCOME_FAILURE) internals.more(breaker).remember(reasonOf(error));
    internals.settle(breaker, generation, outcome, issuedAt);
  }
}

/**
 * Settles a call whose `fn` returned (or resolved to) `value`: a success, unless `isFailureResult`
 * (the call's, else the breaker's) says the value is a failure. A throwing `isFailureResult` still
 * settles the call, as a failure, before its error propagates.
 */
function settleValue(
  breaker: Breaker,
  generation: number,
  issuedAt: number,
  value: unknown,
  options: DoOptions<unknown> | undefined,
): void {
  const isFailureResult = options?.isFailureResult ?? internals.classify(breaker)?.isFailureResult;
  if (isFailureResult === undefined) {
    internals.settle(breaker, generation, OUTCOME_SUCCESS, issuedAt);
    return;
  }
  let outcome = OUTCOME_FAILURE;
  try {
    if (isFailureResult(value) !== true) outcome = OUTCOME_SUCCESS;
  } finally {
    if (outcome === OUTCOME_FAILURE)
      internals.more(breaker).remember("the result counts as a failure (isFailureResult)");
    internals.settle(breaker, generation, outcome, issuedAt);
  }
}
