// A breaker: a handle on one slot of a box's store. `new Breaker()` owns a box of one slot;
// `box.get(key)` hands out breakers that share the box's store.

import {
  CHANGED,
  DECISION_MASK,
  DECISION_PASS,
  KIND_ADAPTIVE,
  MODE_DISABLED,
  MODE_FORCED_OPEN,
  MODE_METRICS_ONLY,
  OUTCOME_EXCLUDED,
  OUTCOME_FAILURE,
  OUTCOME_SUCCESS,
} from "../core/layout.js";
import type { BreakerCounts, BreakerState, EngineName } from "../core/types.js";
import { decide, settle, trip } from "../store/hot-path.js";
import { BoxContext, standalone } from "./context.js";
import * as control from "./control.js";
import {
  type CallContext,
  checkDuration,
  checkOpenFor,
  type DoOptions,
  type Permit,
  runDo,
  SlotPermit,
} from "./do.js";
import type { BreakerOpenError } from "./errors.js";
import { type Extra, type Listener, tellBoxOf, tellListeners } from "./events.js";
import { type BreakerInternals, type BreakerStats, internals, releasedError } from "./internals.js";
import type { BreakerOptions } from "./options.js";
import { type BreakerSnapshot, takeSnapshot } from "./snapshot.js";
import {
  T_EXCLUSIONS,
  T_FAILURES,
  T_REJECTIONS,
  T_STRIDE,
  T_SUCCESSES,
  T_TIMEOUTS,
  totalsAt,
} from "./totals.js";

export type { BreakerCounts, BreakerState, BreakerStats, DoOptions, Permit };

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
  /** Its box's context, where what the breaker keeps in JS lives, by its ordinal. */
  readonly #context: BoxContext;
  readonly #ordinal: number;
  readonly #slot: number;
  /** Its ordinal's tenancy when this handle was made: another one means the breaker was deleted. */
  readonly #tenancy: number;
  /** Whether settlements need a duration (the policy counts slow calls). */
  readonly #timed: boolean;

  constructor(options?: BreakerOptions & { initialState?: BreakerSnapshot });
  /** @internal A handle on breaker `ordinal` of a box (BreakerBox makes these). */
  constructor(context: BoxContext, ordinal: number);
  constructor(
    options?: (BreakerOptions & { initialState?: BreakerSnapshot }) | BoxContext,
    ordinal?: number,
  ) {
    const own = options instanceof BoxContext ? undefined : standalone(options);
    const context = own?.context ?? (options as BoxContext);
    this.#context = context;
    this.#ordinal = own?.ordinal ?? (ordinal as number);
    this.key = context.keys[this.#ordinal];
    this.#slot = context.slots[this.#ordinal];
    this.#tenancy = context.tenancy[this.#ordinal];
    this.#timed = context.store.timesCalls(this.#slot) || context.timeoutMs !== undefined;
  }

  /**
   * A snapshot of the breaker (policy, window, state, counts, reasons) as plain JSON, stamped with
   * the memory layout version. `new Breaker({ initialState })` or `box.get(key, { initialState })`
   * restores it; the time since the snapshot ages its window.
   */
  toJSON(): BreakerSnapshot {
    return takeSnapshot(this.#store(), this.#slot, this.#extra()?.recentReasons() ?? []);
  }

  /** Which engine runs this breaker: 'wasm' or 'js'. */
  get engine(): EngineName {
    return this.#context.store.engineName;
  }

  /** Which policy it runs: 'adaptive' or 'three-state'. */
  get policy(): "adaptive" | "three-state" {
    return this.#context.store.kindOf(this.#slot) === KIND_ADAPTIVE ? "adaptive" : "three-state";
  }

  /** Zero-allocation admission: a positive token, or 0 when the call must be rejected. */
  tryAcquire(): number {
    const context = this.#context;
    if (context.tenancy[this.#ordinal] !== this.#tenancy) throw releasedError(this.key);
    context.marks[this.#ordinal] = 1;
    const store = context.store;
    const slot = this.#slot;
    const code = decide(store, slot);
    if (code !== DECISION_PASS) {
      if ((code & CHANGED) !== 0) this.#changed(code);
      if ((code & DECISION_MASK) !== DECISION_PASS) {
        context.tally(this.#ordinal, T_REJECTIONS);
        if (context.onDrop !== undefined) this.#reportDrop();
        return 0;
      }
    }
    return context.permits.issue(slot, store.generation(slot), this.#timed ? store.now() : 0);
  }

  /** Settles a token as a success. Stale, doubled or foreign tokens do nothing. */
  accept(token: number, durationMs?: number): void {
    if (durationMs !== undefined) checkDuration(durationMs);
    const context = this.#context;
    const permits = context.permits;
    if (!this.#redeem(token)) return;
    const store = context.store;
    const duration = durationMs ?? (this.#timed ? store.now() - permits.issuedAt : Number.NaN);
    if (duration > context.leaseMs) {
      this.#lateSuccess(permits.generation, duration);
      return;
    }
    const totals = context.totals;
    if (totals !== undefined) totals[this.#ordinal * T_STRIDE + T_SUCCESSES]++;
    const code = settle(store, this.#slot, permits.generation, OUTCOME_SUCCESS, duration);
    if ((code & CHANGED) !== 0) this.#changed(code);
  }

  /**
   * Settles a token as a failure, keeping `reason`. With a three-state breaker, `openForMs` opens
   * it at once for at least that long (accelerated tripping). Stale tokens do nothing.
   */
  reject(token: number, reason?: string, openForMs?: number): void {
    if (openForMs !== undefined) checkOpenFor(this, openForMs);
    const permits = this.#context.permits;
    if (this.#redeem(token)) {
      if (reason !== undefined) this.#more().remember(reason);
      this.#settle(permits.generation, OUTCOME_FAILURE, permits.issuedAt, undefined, openForMs);
    }
  }

  /** Settles a token as neither success nor failure (gobreaker's exclusions). */
  exclude(token: number): void {
    const permits = this.#context.permits;
    if (this.#redeem(token)) {
      this.#settle(permits.generation, OUTCOME_EXCLUDED, permits.issuedAt);
    }
  }

  /** go-zero's Allow: a Permit to settle once, or null when the call must be rejected. */
  allow(): Permit | null {
    if ((this.#admit() & DECISION_MASK) !== DECISION_PASS) return null;
    const store = this.#context.store;
    return new SlotPermit(this, store.generation(this.#slot), this.#timed ? store.now() : 0);
  }

  /**
   * Runs `fn` through the breaker (go-zero's Do, DoWithAcceptable, DoWithFallback and
   * DoWithFallbackAcceptable in one). A returned promise settles the call when it settles.
   *
   * Rejected: returns `fallback(error)` if given; else throws a BreakerOpenError (or a
   * TooManyRequestsError when a half-open breaker has all the probes it allows): as a rejected
   * promise when `fn` is an `async function`, synchronously otherwise.
   * An error from `fn` counts as a failure unless `acceptable(error)` makes it a success or
   * `excluded(error)` makes it neither, and is rethrown.
   */
  do<R>(fn: (call: CallContext) => R, options?: DoOptions<R>): R {
    return runDo(this, fn, options);
  }

  /**
   * The state now: 'closed', 'open' or 'half-open' for a three-state breaker, or the manual mode
   * overriding them ('forced-open', 'disabled', 'metrics-only', 'isolated'). Reading it makes a
   * due lazy transition (open → half-open), as gobreaker's State() does. An adaptive breaker is
   * 'closed' while it drops nothing and 'open' while it drops calls with some probability.
   */
  get state(): BreakerState {
    return control.state(this);
  }

  /** Counts of a three-state breaker since its last state change (gobreaker's Counts). */
  get counts(): BreakerCounts {
    return control.threeState(this, "counts").counts(this.#slot); // no state change, as gobreaker's
  }

  /**
   * Counts, drop ratio, state and last failure reasons, from the core's stats sweep over this
   * breaker alone (as `box.stats()` makes them for all). Like that sweep it makes no state change:
   * an open breaker whose time is up reads 'open' until a call or `state` moves it.
   */
  stats(): BreakerStats {
    return control.stats(this);
  }

  /** Time (ms, on the breaker's clock) until which an open three-state breaker stays open. */
  get openUntil(): number {
    return control.threeState(this, "openUntil").openUntil(this.#slot);
  }

  /**
   * How long (ms) a refused caller should wait before trying again: 0 while calls pass; until a
   * probe may pass while open; until the probes' lease ends while half-open and full; 1000 while
   * an adaptive breaker sheds; undefined while forced open or isolated (no end is known). What the
   * HTTP adapters put in `Retry-After`.
   */
  get retryAfterMs(): number | undefined {
    return control.retryAfterMs(this);
  }

  /**
   * Three-state: opens now for `openForMs` (at most the policy's maxOpenMs), as an upstream's
   * Retry-After or a cluster (breakerbox/redis) may ask; already open, it stays open at least
   * that long. Nothing is counted. A TypeError on an adaptive breaker.
   */
  trip(openForMs: number): void {
    control.tripNow(this, openForMs);
  }

  /**
   * Counts calls made elsewhere (a cluster's other instances: breakerbox/redis) in this
   * breaker's window as if settled now, so that its decisions are the cluster's. Three-state:
   * only while closed (an open breaker counts nothing, a half-open one its own probes). Integers
   * ≥ 0.
   */
  merge(successes: number, failures: number): void {
    control.merge(this, successes, failures);
  }

  /** The breaker's one BreakerOpenError (frozen, without a stack): what a rejected call throws. */
  openError(): BreakerOpenError {
    return control.openError(this);
  }

  /**
   * Back to a fresh start; permits already issued settle nothing. Adaptive: an empty window.
   * Three-state: closed with cleared counts and backoff, out of any manual mode (isolation
   * handles stay in force until released).
   */
  reset(): void {
    const before = control.watched(this);
    this.#store().reset(this.#slot);
    control.notifyIfMoved(this, before); // e.g. forced-open → closed, with no state change
  }

  /** Three-state: rejects every call until `forceClose()`, `reset()` or another mode. */
  forceOpen(): void {
    control.setMode(this, MODE_FORCED_OPEN, "forceOpen()");
  }

  /** Three-state: closes now with cleared counts, and leaves any manual mode. */
  forceClose(): void {
    this.reset();
  }

  /** Three-state: allows every call and still counts it; nothing trips. */
  disable(): void {
    control.setMode(this, MODE_DISABLED, "disable()");
  }

  /** Three-state: runs the state machine and counts, but never rejects a call. */
  metricsOnly(): void {
    control.setMode(this, MODE_METRICS_ONLY, "metricsOnly()");
  }

  /**
   * Three-state: rejects every call until the returned handle is released (cockatiel's isolate).
   * Handles nest: the breaker stays isolated while any is unreleased. Releasing twice does nothing.
   */
  isolate(): { release(): void } {
    return control.isolate(this);
  }

  /**
   * Subscribes to state changes; returns the function that unsubscribes. Three-state: every
   * transition and manual mode; adaptive: 'open' when it starts shedding, 'closed' when it stops,
   * told by the first call that sees it. Costs nothing while nobody listens. A listener that throws does not stop the
   * others or touch the breaker; its error is rethrown from a microtask.
   */
  onStateChange(listener: Listener): () => void {
    return control.subscribe(this, listener);
  }

  /** Subscribes to changes into 'open'; returns the function that unsubscribes. */
  onOpen(listener: () => void): () => void {
    return this.onStateChange(({ to }) => to === "open" && listener());
  }

  /** Subscribes to changes into 'half-open'; returns the function that unsubscribes. */
  onHalfOpen(listener: () => void): () => void {
    return this.onStateChange(({ to }) => to === "half-open" && listener());
  }

  /** Subscribes to changes into 'closed'; returns the function that unsubscribes. */
  onClose(listener: () => void): () => void {
    return this.onStateChange(({ to }) => to === "closed" && listener());
  }

  static {
    const friend: BreakerInternals = {
      slotOf: (b) => b.#slot,
      store: (b) => b.#store(),
      extra: (b) => b.#extra(),
      more: (b) => b.#more(),
      isReleased: (b) => b.#released(),
      admit: (b) => b.#admit(),
      issuedAt: (b) => (b.#timed ? b.#context.store.now() : 0),
      settle: (b, generation, outcome, issuedAt, durationMs, openForMs) =>
        b.#settle(generation, outcome, issuedAt, durationMs, openForMs),
      changed: (b, code) => b.#changed(code),
      classify: (b) => {
        const context = b.#context;
        return context.classifying && !b.#released() ? context.classifyOf(b.#ordinal) : undefined;
      },
      tally: (b, which) => {
        if (!b.#released()) b.#context.tally(b.#ordinal, which);
      },
      totals: (b) => {
        const totals = b.#context.totals;
        return totals === undefined || b.#released() ? undefined : totalsAt(totals, b.#ordinal);
      },
      context: (b) => b.#context,
    };
    Object.assign(internals, friend);
  }

  /**
   * Redeems one of this breaker's tokens (see Permits.redeem). A deleted breaker's handle says no,
   * but retires the token if it is stale, so that it costs no place in the table: the deleted
   * breaker's tokens all are, as freeing a slot moves its generation on.
   */
  #redeem(token: number): boolean {
    const context = this.#context;
    if (context.tenancy[this.#ordinal] === this.#tenancy)
      return context.permits.redeem(token, this.#slot);
    context.permits.retireStale(token, this.#slot, context.store.generation(this.#slot));
    return false;
  }

  /** Whether the breaker was deleted from its box since this handle was made. */
  #released(): boolean {
    return this.#context.tenancy[this.#ordinal] !== this.#tenancy;
  }

  /** What only some breakers need (errors, reasons, listeners, drop reports), if it has any. */
  #extra(): Extra | undefined {
    return this.#released() ? undefined : this.#context.extras.get(this.#ordinal);
  }

  #more(): Extra {
    return this.#context.more(this.#ordinal);
  }

  /** The store, for an operation that needs the breaker still in its box. */
  #store() {
    if (this.#released()) throw releasedError(this.key);
    return this.#context.store;
  }

  /** Settles one permit of `generation`, with its duration when the policy times calls. */
  #settle(
    generation: number,
    outcome: number,
    issuedAt: number,
    durationMs?: number,
    openForMs?: number,
  ): void {
    if (this.#released()) return;
    const store = this.#context.store;
    const slot = this.#slot;
    const duration = durationMs ?? (this.#timed ? store.now() - issuedAt : Number.NaN);
    if (outcome === OUTCOME_SUCCESS && duration > this.#context.leaseMs) {
      this.#lateSuccess(generation, duration);
      return;
    }
    const totals = this.#context.totals;
    if (totals !== undefined) {
      const which =
        outcome === OUTCOME_SUCCESS
          ? T_SUCCESSES
          : outcome === OUTCOME_FAILURE
            ? T_FAILURES
            : T_EXCLUSIONS;
      totals[this.#ordinal * T_STRIDE + which]++;
    }
    // Accelerated tripping (openForMs checked by the caller), for a permit of the current generation.
    const trips = openForMs !== undefined && openForMs > 0 && generation === store.generation(slot);
    // Opening first (the failure itself might open for openMs); an opening clears the counts, so
    // the failure is counted only when the trip changed nothing (already open, or disabled).
    let code = trips ? trip(store, slot, openForMs) : 0;
    if ((code & CHANGED) === 0) code |= settle(store, slot, generation, outcome, duration);
    if ((code & CHANGED) !== 0) this.#changed(code);
  }

  /**
   * A success settled after the box's `timeoutMs` (its token's lease): it counts as a failure, the
   * timeout `do()` would have answered.
   */
  #lateSuccess(generation: number, duration: number): void {
    this.#more().remember(`the call did not settle within ${this.#context.timeoutMs} ms`);
    this.#context.tally(this.#ordinal, T_FAILURES);
    this.#context.tally(this.#ordinal, T_TIMEOUTS);
    const code = settle(this.#context.store, this.#slot, generation, OUTCOME_FAILURE, duration);
    if ((code & CHANGED) !== 0) this.#changed(code);
  }

  #admit(): number {
    const context = this.#context;
    if (context.tenancy[this.#ordinal] !== this.#tenancy) throw releasedError(this.key);
    context.marks[this.#ordinal] = 1;
    const code = decide(this.#context.store, this.#slot);
    if ((code & CHANGED) !== 0) this.#changed(code);
    if ((code & DECISION_MASK) !== DECISION_PASS) {
      context.tally(this.#ordinal, T_REJECTIONS);
      if (context.onDrop !== undefined) this.#reportDrop();
    }
    return code;
  }

  #reportDrop(): void {
    this.#more().reportDrop(this.key, this.#context);
  }

  /** The slot changed state (`code` with CHANGED), or may have: tell the listeners. */
  #changed(code = 0): void {
    const extra = this.#extra();
    if (extra !== undefined) tellListeners(extra, this.#context.store, this.#slot, code);
    const box = this.#context.stateListeners;
    if (box !== undefined && (code & CHANGED) !== 0) tellBoxOf(box, this.key, code);
  }
}
