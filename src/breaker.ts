// A breaker: a handle on one slot of a box's memory. `new Breaker()` owns a box of one slot;
// `box.get(key)` hands out breakers that share the box's memory.

import { BoxMemory, STATE_NAMES, type SlotStats } from "./box-memory.js";
import {
  CHANGED, CHANGED_FROM_SHIFT, CHANGED_STATE_MASK, CHANGED_TO_SHIFT, DECISION_MASK, DECISION_PASS, DECISION_TOO_MANY, KIND_ADAPTIVE, MODE_DISABLED, MODE_FORCED_OPEN,
  MODE_METRICS_ONLY, OUTCOME_EXCLUDED, OUTCOME_FAILURE, OUTCOME_SUCCESS, TS_CONSECUTIVE_FAILURES, TS_CONSECUTIVE_SUCCESSES, TS_EXCLUSIONS, TS_FAILURES, TS_ISOLATIONS, TS_MODE,
  TS_OPEN_UNTIL, TS_REQUESTS, TS_SLOW_CALLS, TS_STATE, TS_SUCCESSES,
} from "./core/layout.js";
import type { EngineName } from "./engine.js";
import { dropError, tooManyError, type BreakerOpenError, type TooManyRequestsError } from "./errors.js";
import { checkBreakerOptions, checkObject, type BreakerOptions } from "./options.js";
import { restoreSnapshot, takeInitialState, takeSnapshot, type BreakerSnapshot } from "./snapshot.js";

/** How many failure reasons a breaker keeps (go-zero keeps 5). */
export const REASONS_KEPT = 5;

/** What `state` reports: the three states, or the manual mode that overrides them. */
export type BreakerState = "closed" | "open" | "half-open" | "forced-open" | "disabled" | "metrics-only" | "isolated";

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

/** The counts of a three-state breaker since its last state change (gobreaker's Counts). */
export interface BreakerCounts {
  requests: number;
  successes: number;
  failures: number;
  exclusions: number;
  slowCalls: number;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

/** A snapshot of one breaker. */
export interface BreakerStats extends SlotStats {
  /** Which engine runs the breaker. */
  engine: EngineName;
  /** The last failure reasons given to `reject()`, oldest first (at most 5). */
  reasons: string[];
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

class SlotPermit implements Permit {
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
    this.breaker.settleOne(this.generation, OUTCOME_SUCCESS, this.issuedAt, durationMs);
  }

  reject(reason?: string, openForMs?: number): void {
    if (openForMs !== undefined) this.breaker.checkOpenFor(openForMs);
    if (this.settled) return;
    this.settled = true;
    if (reason !== undefined) this.breaker.remember(reason);
    this.breaker.settleOne(this.generation, OUTCOME_FAILURE, this.issuedAt, undefined, openForMs);
  }

  exclude(): void {
    if (this.settled) return;
    this.settled = true;
    this.breaker.settleOne(this.generation, OUTCOME_EXCLUDED, this.issuedAt);
  }
}

/** Set by BreakerBox just before it constructs a breaker on its own memory. */
let attaching: { memory: BoxMemory; slot: number; key: string; snapshot: BreakerSnapshot | undefined } | undefined;

/** @internal Builds a breaker on a box's memory (used by BreakerBox), restoring `snapshot` if given. */
export function attachBreaker(memory: BoxMemory, slot: number, key: string, snapshot?: BreakerSnapshot): Breaker {
  attaching = { memory, slot, key, snapshot };
  try {
    return new Breaker();
  } finally {
    attaching = undefined;
  }
}

const isAsyncFunction = (fn: unknown): boolean =>
  (fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "AsyncFunction";

function checkDuration(durationMs: number): void {
  if (!(typeof durationMs === "number" && durationMs >= 0 && durationMs <= Number.MAX_VALUE)) {
    throw new RangeError(`durationMs must be a finite number ≥ 0, got ${String(durationMs)}`);
  }
}

const DO_KEYS = new Set(["acceptable", "excluded", "fallback", "signal"]);

/** do()'s arguments: a function, and options whose callbacks are functions and signal an AbortSignal. */
function checkDo(fn: unknown, options: unknown): void {
  if (typeof fn !== "function") throw new TypeError(`fn must be a function, got ${JSON.stringify(fn) ?? typeof fn}`);
  if (options === undefined) return;
  const checked = checkObject("do() options", options, DO_KEYS);
  for (const name of ["acceptable", "excluded", "fallback"]) {
    const value = checked[name];
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(`${name} must be a function, got ${JSON.stringify(value) ?? typeof value}`);
    }
  }
  const signal = checked.signal as { aborted?: unknown } | undefined;
  if (signal !== undefined && (typeof signal !== "object" || signal === null || typeof signal.aborted !== "boolean")) {
    throw new TypeError("signal must be an AbortSignal");
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function releasedError(key: string | undefined): Error {
  return new Error(`breakerbox: the breaker for key ${JSON.stringify(key)} was deleted from its box; get a new one with box.get(key)`);
}

type Listener = (change: { from: BreakerState; to: BreakerState }) => void;

/** A breaker's rarely needed state, kept apart so that a million idle breakers stay small. */
class Extra {
  dropError: BreakerOpenError | undefined = undefined;
  tooManyError: TooManyRequestsError | undefined = undefined;
  reasons: string[] | undefined = undefined;
  reasonCount = 0;
  /** The state the listeners last heard of, and the listeners (none until the first subscribes). */
  known: BreakerState = "closed";
  listeners: Listener[] | undefined = undefined;
  /** Drop reports: rejections since the last report, and when it was (NaN: never). */
  unreported = 0;
  reportedAt = Number.NaN;
}

/**
 * A circuit breaker: go-zero's adaptive policy (the default) or the three-state policy
 * (`policy: 'three-state'` or a `trip` option).
 *
 * Two ways to guard a call: `allow()` → Permit | null, or the zero-allocation `tryAcquire()` →
 * token (0 when rejected) with `accept(token)` / `reject(token)` / `exclude(token)`. `do(fn)`
 * wraps both.
 */
export class Breaker {
  /** The key in its box; undefined for a standalone breaker. */
  readonly key: string | undefined;
  readonly #memory: BoxMemory;
  readonly #slot: number;
  /** Whether settlements need a duration (the policy counts slow calls). */
  readonly #timed: boolean;
  #released = false;
  /** Used (through `get` or a call) since the box last looked for a breaker to evict: its second chance. */
  #used = false;
  /** Its place on the box's eviction clock (-1: the box has no key limit). */
  #position = -1;
  /** What only some breakers need (errors, reasons, listeners, drop reports): made on first use. */
  #extra: Extra | undefined;

  constructor(options?: BreakerOptions & { initialState?: BreakerSnapshot }) {
    let snapshot: BreakerSnapshot | undefined;
    if (attaching !== undefined) {
      this.#memory = attaching.memory;
      this.#slot = attaching.slot;
      this.key = attaching.key;
      snapshot = attaching.snapshot;
    } else {
      const initial = takeInitialState("Breaker options", options);
      const checked = checkBreakerOptions("Breaker options", initial.rest);
      const memory = new BoxMemory(checked.engine, checked.now, checked.seed, 1024);
      memory.onDrop = checked.onDrop;
      memory.dropReportMs = checked.dropReportMs;
      this.#memory = memory;
      this.#slot = memory.allocate(memory.policy(initial.policy ?? checked.policy));
      this.key = undefined;
      snapshot = initial.snapshot;
    }
    if (snapshot !== undefined) {
      restoreSnapshot(this.#memory, this.#slot, snapshot);
      for (const reason of snapshot.reasons) this.remember(String(reason));
    }
    this.#timed = this.#memory.timesCalls(this.#slot);
  }

  /**
   * A snapshot of the breaker (policy, window, state, counts, reasons) as plain JSON, stamped with
   * the memory layout version. `new Breaker({ initialState })` or `box.get(key, { initialState })`
   * restores it; the time since the snapshot ages its window.
   */
  toJSON(): BreakerSnapshot {
    if (this.#released) throw releasedError(this.key);
    return takeSnapshot(this.#memory, this.#slot, this.#memory.policyOf(this.#slot), this.#recentReasons());
  }

  /** Which engine runs this breaker: 'wasm' or 'js'. */
  get engine(): EngineName {
    return this.#memory.engineName;
  }

  /** Which policy it runs: 'adaptive' or 'three-state'. */
  get policy(): "adaptive" | "three-state" {
    return this.#memory.kindOf(this.#slot) === KIND_ADAPTIVE ? "adaptive" : "three-state";
  }

  /** Zero-allocation admission: a positive token, or 0 when the call must be rejected. */
  tryAcquire(): number {
    if (this.#released) throw releasedError(this.key);
    this.#used = true;
    const memory = this.#memory;
    const slot = this.#slot;
    const code = memory.decide(slot);
    if (code !== DECISION_PASS) {
      if ((code & CHANGED) !== 0) this.#changed(code);
      if ((code & DECISION_MASK) !== DECISION_PASS) {
        if (memory.onDrop !== undefined) this.#reportDrop();
        return 0;
      }
    }
    return memory.permits.issue(slot, memory.generation(slot), this.#timed ? memory.now() : 0);
  }

  /** Settles a token as a success. Stale, doubled or foreign tokens do nothing. */
  accept(token: number, durationMs?: number): void {
    if (durationMs !== undefined) checkDuration(durationMs);
    const permits = this.#memory.permits;
    if (!this.#released && permits.redeem(token, this.#slot)) {
      this.settleOne(permits.generation, OUTCOME_SUCCESS, permits.issuedAt, durationMs);
    }
  }

  /**
   * Settles a token as a failure, keeping `reason`. With a three-state breaker, `openForMs` opens
   * it at once for at least that long (accelerated tripping). Stale tokens do nothing.
   */
  reject(token: number, reason?: string, openForMs?: number): void {
    if (openForMs !== undefined) this.checkOpenFor(openForMs);
    const permits = this.#memory.permits;
    if (!this.#released && permits.redeem(token, this.#slot)) {
      if (reason !== undefined) this.remember(reason);
      this.settleOne(permits.generation, OUTCOME_FAILURE, permits.issuedAt, undefined, openForMs);
    }
  }

  /** Settles a token as neither success nor failure (gobreaker's exclusions). */
  exclude(token: number): void {
    const permits = this.#memory.permits;
    if (!this.#released && permits.redeem(token, this.#slot)) {
      this.settleOne(permits.generation, OUTCOME_EXCLUDED, permits.issuedAt);
    }
  }

  /** go-zero's Allow: a Permit to settle once, or null when the call must be rejected. */
  allow(): Permit | null {
    const code = this.#admit();
    if ((code & DECISION_MASK) !== DECISION_PASS) return null;
    const memory = this.#memory;
    return new SlotPermit(this, memory.generation(this.#slot), this.#timed ? memory.now() : 0);
  }

  /**
   * Runs `fn` through the breaker (go-zero's Do, DoWithAcceptable, DoWithFallback and
   * DoWithFallbackAcceptable in one). A returned promise settles the call when it settles.
   *
   * Rejected: returns `fallback(error)` if given; else throws a BreakerOpenError (or a
   * TooManyRequestsError when a half-open breaker has all the probes it allows) — as a rejected
   * promise when `fn` is an `async function`, synchronously otherwise.
   * An error from `fn` counts as a failure unless `acceptable(error)` makes it a success or
   * `excluded(error)` makes it neither, and is rethrown.
   */
  do<R>(fn: () => R, options?: DoOptions<R>): R {
    checkDo(fn, options);
    const signal = options?.signal;
    if (signal?.aborted) {
      if (isAsyncFunction(fn)) return Promise.reject(signal.reason) as R;
      throw signal.reason;
    }
    const memory = this.#memory;
    const code = this.#admit();
    if ((code & DECISION_MASK) !== DECISION_PASS) {
      const error = (code & DECISION_MASK) === DECISION_TOO_MANY
        ? (this.#more().tooManyError ??= tooManyError(this.key))
        : this.openError();
      if (options?.fallback !== undefined) return options.fallback(error);
      if (isAsyncFunction(fn)) return Promise.reject(error) as R;
      throw error;
    }
    const generation = memory.generation(this.#slot);
    const issuedAt = this.#timed ? memory.now() : 0;
    let result: R;
    try {
      result = fn();
    } catch (error) {
      this.#settleError(generation, issuedAt, error, options);
      throw error;
    }
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      return (result as PromiseLike<unknown>).then(
        (value) => {
          this.settleOne(generation, OUTCOME_SUCCESS, issuedAt);
          return value;
        },
        (error: unknown) => {
          this.#settleError(generation, issuedAt, error, options);
          throw error;
        },
      ) as R;
    }
    this.settleOne(generation, OUTCOME_SUCCESS, issuedAt);
    return result;
  }

  /**
   * The state now: 'closed', 'open' or 'half-open' for a three-state breaker, or the manual mode
   * overriding them ('forced-open', 'disabled', 'metrics-only', 'isolated'). Reading it makes a
   * due lazy transition (open → half-open), as gobreaker's State() does. An adaptive breaker is
   * 'closed' while it drops nothing and 'open' while it drops calls with some probability.
   */
  get state(): BreakerState {
    if (this.#released) throw releasedError(this.key);
    const memory = this.#memory;
    const slot = this.#slot;
    if (memory.kindOf(slot) === KIND_ADAPTIVE) return memory.core.dropProbability(slot, memory.now()) > 0 ? "open" : "closed";
    const code = memory.core.refreshThreeState(slot, memory.now());
    if ((code & CHANGED) !== 0) this.#changed(code);
    return this.#readState();
  }

  /** Counts of a three-state breaker since its last state change (gobreaker's Counts). */
  get counts(): BreakerCounts {
    const memory = this.#threeState("counts");
    const slot = this.#slot;
    memory.catchUp(slot); // pending successes folded; no state change, as gobreaker's Counts()
    const u32 = (offset: number) => memory.u32[(slot + offset) >>> 2];
    return {
      requests: u32(TS_REQUESTS),
      successes: u32(TS_SUCCESSES),
      failures: u32(TS_FAILURES),
      exclusions: u32(TS_EXCLUSIONS),
      slowCalls: u32(TS_SLOW_CALLS),
      consecutiveSuccesses: u32(TS_CONSECUTIVE_SUCCESSES),
      consecutiveFailures: u32(TS_CONSECUTIVE_FAILURES),
    };
  }

  /**
   * Counts, drop ratio, state and last failure reasons, from the core's stats sweep over this
   * breaker alone (as `box.stats()` makes them for all). Like that sweep it makes no state change:
   * an open breaker whose time is up reads 'open' until a call or `state` moves it.
   */
  stats(): BreakerStats {
    if (this.#released) throw releasedError(this.key);
    const memory = this.#memory;
    return { engine: memory.engineName, ...memory.statsOf(this.#slot), reasons: this.#recentReasons() };
  }

  /** Time (ms, on the breaker's clock) until which an open three-state breaker stays open. */
  get openUntil(): number {
    const memory = this.#threeState("openUntil");
    return memory.f64[(this.#slot + TS_OPEN_UNTIL) >>> 3];
  }

  /**
   * Back to a fresh start; permits already issued settle nothing. Adaptive: an empty window.
   * Three-state: closed with cleared counts and backoff, out of any manual mode (isolation
   * handles stay in force until released).
   */
  reset(): void {
    if (this.#released) throw releasedError(this.key);
    this.#memory.reset(this.#slot);
    this.#notifyIfMoved(); // forced-open → closed moves what `state` reports without a state change
  }

  /** Three-state: rejects every call until `forceClose()`, `reset()` or another mode. */
  forceOpen(): void {
    this.#setMode(MODE_FORCED_OPEN);
  }

  /** Three-state: closes now with cleared counts, and leaves any manual mode. */
  forceClose(): void {
    this.reset();
  }

  /** Three-state: allows every call and still counts it; nothing trips. */
  disable(): void {
    this.#setMode(MODE_DISABLED);
  }

  /** Three-state: runs the state machine and counts, but never rejects a call. */
  metricsOnly(): void {
    this.#setMode(MODE_METRICS_ONLY);
  }

  /**
   * Three-state: rejects every call until the returned handle is released (cockatiel's isolate).
   * Handles nest: the breaker stays isolated while any is unreleased. Releasing twice does nothing.
   */
  isolate(): { release(): void } {
    const memory = this.#threeState("isolate()");
    const slot = this.#slot;
    memory.core.isolate(slot, 1);
    this.#notifyIfMoved();
    let released = false;
    return {
      release: () => {
        if (released || this.#released) return;
        released = true;
        memory.core.isolate(slot, -1);
        this.#notifyIfMoved();
      },
    };
  }

  /**
   * Three-state: subscribes to state changes (including manual modes); returns the function that
   * unsubscribes. Costs nothing while nobody listens. A listener that throws does not stop the
   * others or touch the breaker; its error is rethrown from a microtask.
   */
  onStateChange(listener: Listener): () => void {
    this.#threeState("onStateChange()");
    if (typeof listener !== "function") throw new TypeError(`listener must be a function, got ${typeof listener}`);
    const extra = this.#more();
    if (extra.listeners === undefined) {
      extra.listeners = [];
      extra.known = this.#readState();
    }
    const listeners = extra.listeners;
    listeners.push(listener);
    return () => {
      const at = listeners.indexOf(listener);
      if (at >= 0) listeners.splice(at, 1);
    };
  }

  /** Subscribes to changes into 'open'; returns the function that unsubscribes. */
  onOpen(listener: () => void): () => void {
    return this.onStateChange(({ to }) => { if (to === "open") listener(); });
  }

  /** Subscribes to changes into 'half-open'; returns the function that unsubscribes. */
  onHalfOpen(listener: () => void): () => void {
    return this.onStateChange(({ to }) => { if (to === "half-open") listener(); });
  }

  /** Subscribes to changes into 'closed'; returns the function that unsubscribes. */
  onClose(listener: () => void): () => void {
    return this.onStateChange(({ to }) => { if (to === "closed") listener(); });
  }

  /** @internal The slot address, for the box that owns it. */
  static slotOf(breaker: Breaker): number {
    return breaker.#slot;
  }

  /** @internal Whether the breaker was used since the last call, which clears the mark (eviction's second chance). */
  static used(breaker: Breaker): boolean {
    const used = breaker.#used;
    breaker.#used = false;
    return used;
  }

  /** @internal The breaker's place on its box's eviction clock. */
  static positionOf(breaker: Breaker): number {
    return breaker.#position;
  }

  /** @internal Sets the breaker's place on its box's eviction clock. */
  static setPosition(breaker: Breaker, position: number): void {
    breaker.#position = position;
  }

  /** @internal Marks the breaker used. */
  static touch(breaker: Breaker): void {
    breaker.#used = true;
  }

  /** @internal Marks a breaker removed from its box: its slot may now serve another key. */
  static release(breaker: Breaker): void {
    breaker.#released = true;
  }

  /** @internal The breaker's one BreakerOpenError: frozen, without a stack, made on first use. */
  openError(): BreakerOpenError {
    return (this.#more().dropError ??= dropError(this.key));
  }

  /** @internal Keeps a failure reason (the last REASONS_KEPT). */
  remember(reason: string): void {
    const extra = this.#more();
    const reasons = (extra.reasons ??= []);
    reasons[extra.reasonCount++ % REASONS_KEPT] = reason;
  }

  #more(): Extra {
    return (this.#extra ??= new Extra());
  }

  /** @internal Checks `openForMs` for reject(): three-state only, a finite number ≥ 0. */
  checkOpenFor(openForMs: number): void {
    this.#threeState("reject(…, openForMs)");
    if (!(typeof openForMs === "number" && openForMs >= 0 && openForMs <= Number.MAX_VALUE)) {
      throw new RangeError(`openForMs must be a finite number ≥ 0, got ${String(openForMs)}`);
    }
  }

  /** @internal Settles one permit of `generation`, with its duration when the policy times calls. */
  settleOne(generation: number, outcome: number, issuedAt: number, durationMs?: number, openForMs?: number): void {
    if (this.#released) return;
    const memory = this.#memory;
    const slot = this.#slot;
    const duration = durationMs ?? (this.#timed ? memory.now() - issuedAt : NaN);
    if (openForMs === undefined) {
      const code = memory.settle(slot, generation, outcome, duration);
      if ((code & CHANGED) !== 0) this.#changed(code);
      return;
    }
    // Accelerated tripping (openForMs checked by the caller), only for a permit of the current generation.
    const current = generation === memory.generation(slot);
    let code = memory.settle(slot, generation, outcome, duration);
    if (current && openForMs > 0) code |= memory.core.tripThreeState(slot, openForMs, memory.now());
    if ((code & CHANGED) !== 0) this.#changed(code);
  }

  #admit(): number {
    if (this.#released) throw releasedError(this.key);
    this.#used = true;
    const code = this.#memory.decide(this.#slot);
    if ((code & CHANGED) !== 0) this.#changed(code);
    if ((code & DECISION_MASK) !== DECISION_PASS && this.#memory.onDrop !== undefined) this.#reportDrop();
    return code;
  }

  /** Counts a rejection and reports, at most once per dropReportMs (go-zero's throttled log line). */
  #reportDrop(): void {
    const memory = this.#memory;
    const extra = this.#more();
    extra.unreported++;
    const now = memory.now();
    if (now - extra.reportedAt < memory.dropReportMs) return;
    const dropped = extra.unreported;
    extra.unreported = 0;
    extra.reportedAt = now;
    try {
      memory.onDrop!({ key: this.key, message: "circuit breaker is open and requests dropped", dropped, suppressed: dropped - 1, reasons: this.#recentReasons() });
    } catch (error) {
      queueMicrotask(() => { throw error; });
    }
  }

  #settleError(generation: number, issuedAt: number, error: unknown, options: DoOptions<unknown> | undefined): void {
    let outcome = OUTCOME_FAILURE;
    try {
      if (options?.excluded?.(error) === true) outcome = OUTCOME_EXCLUDED;
      else if (options?.acceptable?.(error) === true) outcome = OUTCOME_SUCCESS;
    } finally {
      // A throwing `acceptable` or `excluded` still settles the call, as a failure, before its error propagates.
      if (outcome === OUTCOME_FAILURE) this.remember(reasonOf(error));
      this.settleOne(generation, outcome, issuedAt);
    }
  }

  #threeState(what: string): BoxMemory {
    if (this.#released) throw releasedError(this.key);
    if (this.#memory.kindOf(this.#slot) === KIND_ADAPTIVE) {
      throw new TypeError(`${what} needs a three-state breaker (policy: 'three-state'); this one is adaptive`);
    }
    return this.#memory;
  }

  #setMode(mode: number): void {
    const memory = this.#threeState(mode === MODE_FORCED_OPEN ? "forceOpen()" : mode === MODE_DISABLED ? "disable()" : "metricsOnly()");
    memory.core.setMode(this.#slot, mode);
    this.#notifyIfMoved();
  }

  #readState(): BreakerState {
    const memory = this.#memory;
    const slot = this.#slot;
    if (memory.u32[(slot + TS_ISOLATIONS) >>> 2] !== 0) return "isolated";
    const mode = memory.u8[slot + TS_MODE];
    if (mode === MODE_FORCED_OPEN) return "forced-open";
    if (mode === MODE_DISABLED) return "disabled";
    if (mode === MODE_METRICS_ONLY) return "metrics-only";
    return STATE_NAMES[memory.u8[slot + TS_STATE]];
  }

  /** After a manual change: tells the listeners if what `state` reports moved. */
  #notifyIfMoved(): void {
    if (this.#extra?.listeners !== undefined && this.#memory.kindOf(this.#slot) !== KIND_ADAPTIVE) this.#changed();
  }

  /** The slot changed state: tell the listeners, once per real change. A throwing listener is reported, not obeyed. */
  #changed(code = 0): void {
    const extra = this.#extra;
    const listeners = extra?.listeners;
    if (listeners === undefined) return;
    let from = extra!.known;
    let to = this.#readState();
    if ((code & CHANGED) !== 0 && this.#memory.lockBytes !== 0) {
      // A shared box (its slots carry a lock word): another thread may have moved the slot since,
      // so tell the transition the core made.
      from = STATE_NAMES[(code >>> CHANGED_FROM_SHIFT) & CHANGED_STATE_MASK];
      to = STATE_NAMES[(code >>> CHANGED_TO_SHIFT) & CHANGED_STATE_MASK];
    } else if (from === to) return;
    extra!.known = to;
    for (const listener of [...listeners]) {
      try {
        listener({ from, to });
      } catch (error) {
        queueMicrotask(() => { throw error; });
      }
    }
  }

  /** @internal The last failure reasons, oldest first. */
  recentReasons(): string[] {
    return this.#recentReasons();
  }

  #recentReasons(): string[] {
    const extra = this.#extra;
    const reasons = extra?.reasons;
    if (reasons === undefined) return [];
    const total = extra!.reasonCount;
    const out: string[] = [];
    for (let i = total - Math.min(total, REASONS_KEPT); i < total; i++) out.push(reasons[i % REASONS_KEPT]);
    return out;
  }
}

