// do(fn) and the Permit of allow(): the ways to guard a call that settle it for the caller.

import {
  DECISION_MASK,
  DECISION_PASS,
  DECISION_TOO_MANY,
  OUTCOME_EXCLUDED,
  OUTCOME_FAILURE,
  OUTCOME_SUCCESS,
} from "../core/layout.js";
import type { Breaker } from "./breaker.js";
import { checkObject } from "./check.js";
import { threeState } from "./control.js";
import { type BreakerOpenError, type TooManyRequestsError, tooManyError } from "./errors.js";
import { internals } from "./internals.js";

/** Options for `do()`. */
export interface DoOptions<R> {
  /** Whether an error thrown by `fn` still counts as a success (go-zero's Acceptable). Default: none does. */
  acceptable?: (error: unknown) => boolean;
  /** Whether an error thrown by `fn` counts as neither success nor failure (gobreaker's IsExcluded). Default: none. */
  excluded?: (error: unknown) => boolean;
  /** Called instead of throwing when the breaker rejects the call (go-zero's Fallback); its result is returned. */
  fallback?: (error: BreakerOpenError | TooManyRequestsError) => R;
  /** An already-aborted signal makes `do()` throw `signal.reason` without calling `fn` or counting anything. */
  signal?: AbortSignal;
}

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

const DO_KEYS = new Set(["acceptable", "excluded", "fallback", "signal"]);

/** do()'s arguments: a function, and options whose callbacks are functions and signal an AbortSignal. */
function checkDo(fn: unknown, options: unknown): void {
  if (typeof fn !== "function") {
    throw new TypeError(`fn must be a function, got ${JSON.stringify(fn) ?? typeof fn}`);
  }
  if (options === undefined) return;
  const checked = checkObject("do() options", options, DO_KEYS);
  for (const name of ["acceptable", "excluded", "fallback"]) {
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
export function runDo<R>(breaker: Breaker, fn: () => R, options: DoOptions<R> | undefined): R {
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
  let result: R;
  try {
    result = fn();
  } catch (error) {
    settleError(breaker, generation, issuedAt, error, options);
    throw error;
  }
  // A result with a `then` is a promise, or some thenable: the call is settled once, when it
  // settles, whatever the thenable does (a `then` that throws, or calls back twice).
  let then: unknown;
  try {
    then = (result as { then?: unknown } | null | undefined)?.then;
  } catch (error) {
    settleError(breaker, generation, issuedAt, error, options);
    throw error;
  }
  if (typeof then !== "function") {
    internals.settle(breaker, generation, OUTCOME_SUCCESS, issuedAt);
    return result;
  }
  let settled = false;
  try {
    return then.call(
      result,
      (value: unknown) => {
        if (!settled) internals.settle(breaker, generation, OUTCOME_SUCCESS, issuedAt);
        settled = true;
        return value;
      },
      (error: unknown) => {
        if (!settled) settleError(breaker, generation, issuedAt, error, options);
        settled = true;
        throw error;
      },
    ) as R;
  } catch (error) {
    if (!settled) settleError(breaker, generation, issuedAt, error, options);
    settled = true;
    throw error;
  }
}

/** The breaker's one TooManyRequestsError, made on first use. */
function tooMany(breaker: Breaker): TooManyRequestsError {
  const extra = internals.more(breaker);
  extra.tooManyError ??= tooManyError(breaker.key);
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
    if (options?.excluded?.(error) === true) outcome = OUTCOME_EXCLUDED;
    else if (options?.acceptable?.(error) === true) outcome = OUTCOME_SUCCESS;
  } finally {
    // A throwing `acceptable` or `excluded` still settles the call, as a failure, before its error propagates.
    if (outcome === OUTCOME_FAILURE) internals.more(breaker).remember(reasonOf(error));
    internals.settle(breaker, generation, outcome, issuedAt);
  }
}
