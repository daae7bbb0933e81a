// A breaker: a handle on one slot of a box's memory. `new Breaker()` owns a box of one slot;
// `box.get(key)` hands out breakers that share the box's memory.

import { BoxMemory, type WindowCounts } from "./box-memory.js";
import type { EngineName } from "./engine.js";
import { OUTCOME_FAILURE, OUTCOME_SUCCESS } from "./core/layout.js";
import { dropError, type BreakerOpenError } from "./errors.js";
import { checkBreakerOptions, type BreakerOptions } from "./options.js";

/** How many failure reasons a breaker keeps (go-zero keeps 5). */
export const REASONS_KEPT = 5;

/** Options for `do()`. */
export interface DoOptions<R> {
  /** Whether an error thrown by `fn` still counts as a success (go-zero's Acceptable). Default: none does. */
  acceptable?: (error: unknown) => boolean;
  /** Called instead of throwing when the breaker drops the call (go-zero's Fallback); its result is returned. */
  fallback?: (error: BreakerOpenError) => R;
  /** An already-aborted signal makes `do()` throw `signal.reason` without calling `fn` or counting anything. */
  signal?: AbortSignal;
}

/** A snapshot of one breaker's window. */
export interface BreakerStats extends WindowCounts {
  /** Which engine runs the breaker. */
  engine: EngineName;
  /** The last failure reasons given to `reject()`, oldest first (at most 5). */
  reasons: string[];
}

/** One admitted call. Settle it once with `accept()` or `reject()`; later settlements do nothing. */
export interface Permit {
  /** The call succeeded. */
  accept(): void;
  /** The call failed; `reason` is kept among the breaker's last failure reasons. */
  reject(reason?: string): void;
}

class SlotPermit implements Permit {
  private settled = false;

  constructor(
    private readonly breaker: Breaker,
    private readonly memory: BoxMemory,
    private readonly slot: number,
    private readonly generation: number,
  ) {}

  accept(): void {
    if (this.settled) return;
    this.settled = true;
    this.memory.settle(this.slot, this.generation, OUTCOME_SUCCESS);
  }

  reject(reason?: string): void {
    if (this.settled) return;
    this.settled = true;
    if (reason !== undefined) this.breaker.remember(reason);
    this.memory.settle(this.slot, this.generation, OUTCOME_FAILURE);
  }
}

/** Set by BreakerBox just before it constructs a breaker on its own memory. */
let attaching: { memory: BoxMemory; slot: number; key: string } | undefined;

/** @internal Builds a breaker on a box's memory (used by BreakerBox). */
export function attachBreaker(memory: BoxMemory, slot: number, key: string): Breaker {
  attaching = { memory, slot, key };
  try {
    return new Breaker();
  } finally {
    attaching = undefined;
  }
}

const isAsyncFunction = (fn: unknown): boolean =>
  (fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "AsyncFunction";

function releasedError(key: string | undefined): Error {
  return new Error(`breakerbox: the breaker for key ${JSON.stringify(key)} was deleted from its box; get a new one with box.get(key)`);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A circuit breaker with the adaptive (Google SRE client-side throttling) policy of go-zero.
 *
 * Two ways to guard a call: `allow()` → Permit | null, or the zero-allocation `tryAcquire()` →
 * token (0 when dropped) with `accept(token)` / `reject(token)`. `do(fn)` wraps both.
 */
export class Breaker {
  /** The key in its box; undefined for a standalone breaker. */
  readonly key: string | undefined;
  readonly #memory: BoxMemory;
  readonly #slot: number;
  #released = false;
  #dropError: BreakerOpenError | undefined;
  #reasons: string[] | undefined;
  #reasonCount = 0;

  constructor(options?: BreakerOptions) {
    if (attaching !== undefined) {
      this.#memory = attaching.memory;
      this.#slot = attaching.slot;
      this.key = attaching.key;
      return;
    }
    const checked = checkBreakerOptions("Breaker options", options);
    const memory = new BoxMemory(checked.engine, checked.now, checked.seed, 1024);
    this.#memory = memory;
    this.#slot = memory.allocate(memory.policy(checked.policy));
    this.key = undefined;
  }

  /** Which engine runs this breaker: 'wasm' or 'js'. */
  get engine(): EngineName {
    return this.#memory.engineName;
  }

  /** Zero-allocation admission: a positive token, or 0 when the call must be dropped. */
  tryAcquire(): number {
    if (this.#released) throw releasedError(this.key);
    const memory = this.#memory;
    const slot = this.#slot;
    return memory.decide(slot) ? memory.permits.issue(slot, memory.generation(slot)) : 0;
  }

  /** Settles a token from `tryAcquire()` as a success. Stale, doubled or foreign tokens do nothing. */
  accept(token: number): void {
    const memory = this.#memory;
    if (!this.#released && memory.permits.redeem(token, this.#slot)) {
      memory.settle(this.#slot, memory.permits.generation, OUTCOME_SUCCESS);
    }
  }

  /** Settles a token from `tryAcquire()` as a failure, keeping `reason`. Stale tokens do nothing. */
  reject(token: number, reason?: string): void {
    const memory = this.#memory;
    if (!this.#released && memory.permits.redeem(token, this.#slot)) {
      if (reason !== undefined) this.remember(reason);
      memory.settle(this.#slot, memory.permits.generation, OUTCOME_FAILURE);
    }
  }

  /** go-zero's Allow: a Permit to settle once, or null when the call must be dropped. */
  allow(): Permit | null {
    if (this.#released) throw releasedError(this.key);
    const memory = this.#memory;
    const slot = this.#slot;
    return memory.decide(slot) ? new SlotPermit(this, memory, slot, memory.generation(slot)) : null;
  }

  /**
   * Runs `fn` through the breaker (go-zero's Do, DoWithAcceptable, DoWithFallback and
   * DoWithFallbackAcceptable in one). A returned promise settles the call when it settles.
   *
   * Dropped: returns `fallback(error)` if given; else throws a BreakerOpenError — as a rejected
   * promise when `fn` is an `async function`, synchronously otherwise.
   * An error from `fn` counts as a failure unless `acceptable(error)` says otherwise, and is rethrown.
   */
  do<R>(fn: () => R, options?: DoOptions<R>): R {
    const signal = options?.signal;
    if (signal?.aborted) {
      if (isAsyncFunction(fn)) return Promise.reject(signal.reason) as R;
      throw signal.reason;
    }
    const token = this.tryAcquire();
    if (token === 0) {
      const error = (this.#dropError ??= dropError(this.key));
      if (options?.fallback !== undefined) return options.fallback(error);
      if (isAsyncFunction(fn)) return Promise.reject(error) as R;
      throw error;
    }
    let result: R;
    try {
      result = fn();
    } catch (error) {
      this.#settleError(token, error, options?.acceptable);
      throw error;
    }
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      const acceptable = options?.acceptable;
      return (result as PromiseLike<unknown>).then(
        (value) => {
          this.accept(token);
          return value;
        },
        (error: unknown) => {
          this.#settleError(token, error, acceptable);
          throw error;
        },
      ) as R;
    }
    this.accept(token);
    return result;
  }

  /** Counts, drop ratio and last failure reasons of the current window. */
  stats(): BreakerStats {
    if (this.#released) throw releasedError(this.key);
    const counts = this.#memory.counts(this.#slot) as BreakerStats;
    counts.engine = this.#memory.engineName;
    counts.reasons = this.#recentReasons();
    return counts;
  }

  /** Forgets the window (an empty, passing breaker); permits already issued settle nothing. */
  reset(): void {
    if (this.#released) throw releasedError(this.key);
    this.#memory.reset(this.#slot);
  }

  /** @internal The slot address, for the box that owns it. */
  static slotOf(breaker: Breaker): number {
    return breaker.#slot;
  }

  /** @internal Marks a breaker removed from its box: its slot may now serve another key. */
  static release(breaker: Breaker): void {
    breaker.#released = true;
  }

  /** @internal Keeps a failure reason (the last REASONS_KEPT). */
  remember(reason: string): void {
    const reasons = (this.#reasons ??= []);
    reasons[this.#reasonCount++ % REASONS_KEPT] = reason;
  }

  #settleError(token: number, error: unknown, acceptable: ((error: unknown) => boolean) | undefined): void {
    let accepted = false;
    try {
      accepted = acceptable !== undefined && acceptable(error) === true;
    } finally {
      // A throwing `acceptable` still settles the call, as a failure, before its error propagates.
      if (accepted) this.accept(token);
      else this.reject(token, reasonOf(error));
    }
  }

  #recentReasons(): string[] {
    const reasons = this.#reasons;
    if (reasons === undefined) return [];
    const count = Math.min(this.#reasonCount, REASONS_KEPT);
    const out: string[] = [];
    for (let i = this.#reasonCount - count; i < this.#reasonCount; i++) out.push(reasons[i % REASONS_KEPT]);
    return out;
  }
}
