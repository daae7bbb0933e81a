// A breaker's state, manual modes and listeners: the three-state controls behind Breaker's
// getters and methods of the same names.

import { CHANGED, KIND_ADAPTIVE } from "../core/layout.js";
import type { BreakerState } from "../core/types.js";
import { STATE_NAMES } from "../core/views.js";
import { trip } from "../store/hot-path.js";
import type { Store } from "../store/store.js";
import type { Breaker } from "./breaker.js";
import { type BreakerOpenError, dropError } from "./errors.js";
import { type Listener, shownState, tellBox } from "./events.js";
import { type BreakerStats, internals } from "./internals.js";

/** The breaker's store, if it runs the three-state policy; else a TypeError naming `what`. */
export function threeState(breaker: Breaker, what: string): Store {
  const store = internals.store(breaker);
  if (store.kindOf(internals.slotOf(breaker)) === KIND_ADAPTIVE) {
    throw new TypeError(
      `${what} needs a three-state breaker (policy: 'three-state'); this one is adaptive`,
    );
  }
  return store;
}

/** Breaker.state: makes a due lazy transition first. */
export function state(breaker: Breaker): BreakerState {
  const store = internals.store(breaker);
  const slot = internals.slotOf(breaker);
  if (store.kindOf(slot) === KIND_ADAPTIVE) {
    return store.core.dropProbability(slot, store.now()) > 0 ? "open" : "closed";
  }
  const code = store.core.refreshThreeState(slot, store.now());
  if ((code & CHANGED) !== 0) internals.changed(breaker, code);
  return STATE_NAMES[store.stateCode(slot)];
}

/**
 * Breaker.retryAfterMs: how long a caller should wait before trying again, as a Retry-After says.
 * 0 while calls pass; open: until a probe may pass; half-open with its probes out: until their
 * lease ends; adaptive shedding: ADAPTIVE_RETRY_MS (a drop is a draw, the window moves in a
 * bucket); forced open or isolated: undefined, since nothing but a person ends it.
 */
export function retryAfterMs(breaker: Breaker): number | undefined {
  const now = state(breaker);
  if (now === "closed" || now === "disabled" || now === "metrics-only") return 0;
  if (now === "forced-open" || now === "isolated") return undefined;
  const store = internals.store(breaker);
  const slot = internals.slotOf(breaker);
  if (store.kindOf(slot) === KIND_ADAPTIVE) return ADAPTIVE_RETRY_MS;
  const left = store.openUntil(slot) - store.now();
  return Math.max(left, 0);
}

/** What retryAfterMs answers while an adaptive breaker sheds. */
const ADAPTIVE_RETRY_MS = 1000;

/** Breaker.stats(): the core's stats sweep over this breaker alone, with its reasons. */
export function stats(breaker: Breaker): BreakerStats {
  const store = internals.store(breaker);
  const reasons = internals.extra(breaker)?.recentReasons() ?? [];
  const stats: BreakerStats = {
    engine: store.engineName,
    ...store.statsOf(internals.slotOf(breaker)),
    reasons,
  };
  const totals = internals.totals(breaker);
  if (totals !== undefined) stats.totals = totals;
  return stats;
}

/** Breaker.openError(): its one BreakerOpenError, made on first use. */
export function openError(breaker: Breaker): BreakerOpenError {
  const extra = internals.more(breaker);
  extra.dropError ??= dropError(breaker.key, () => breaker.retryAfterMs);
  return extra.dropError;
}

/** Sets a manual mode (MODE_*) and tells the listeners if what `state` reports moved. */
export function setMode(breaker: Breaker, mode: number, what: string): void {
  const store = threeState(breaker, what);
  const before = watched(breaker);
  store.core.setMode(internals.slotOf(breaker), mode);
  notifyIfMoved(breaker, before);
}

/** Before a manual change: the state the box's listeners know, if the box has any. */
export function watched(breaker: Breaker): BreakerState | undefined {
  if (internals.context(breaker).stateListeners === undefined) return undefined;
  return shownState(internals.store(breaker), internals.slotOf(breaker));
}

/**
 * After a manual change: tells the breaker's listeners if what they were told moved, and the
 * box's if the state moved from `before` (watched() before the change).
 */
export function notifyIfMoved(breaker: Breaker, before: BreakerState | undefined): void {
  const store = internals.store(breaker);
  const slot = internals.slotOf(breaker);
  const extra = internals.extra(breaker);
  if (extra?.listeners !== undefined) {
    const to = shownState(store, slot);
    if (to !== extra.known) extra.notify(to);
  }
  const listeners = internals.context(breaker).stateListeners;
  if (listeners === undefined || before === undefined) return;
  const after = shownState(store, slot);
  if (after !== before) tellBox(listeners, breaker.key, before, after);
}

/** Breaker.isolate(): one more isolation handle, released once. */
export function isolate(breaker: Breaker): { release(): void } {
  const store = threeState(breaker, "isolate()");
  const slot = internals.slotOf(breaker);
  const before = watched(breaker);
  store.core.isolate(slot, 1);
  notifyIfMoved(breaker, before);
  let released = false;
  return {
    release: () => {
      if (released || internals.isReleased(breaker)) return;
      released = true;
      const before = watched(breaker);
      store.core.isolate(slot, -1);
      notifyIfMoved(breaker, before);
    },
  };
}

/** Breaker.onStateChange(): adds a listener, returns the function that removes it. */
export function subscribe(breaker: Breaker, listener: Listener): () => void {
  const store = internals.store(breaker);
  if (typeof listener !== "function") {
    throw new TypeError(`listener must be a function, got ${typeof listener}`);
  }
  const extra = internals.more(breaker);
  if (extra.listeners === undefined) {
    extra.listeners = [];
    extra.known = shownState(store, internals.slotOf(breaker));
  }
  const listeners = extra.listeners;
  listeners.push(listener);
  return () => {
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  };
}

/** Breaker.trip(): opens a three-state breaker now for `openForMs`. */
export function tripNow(breaker: Breaker, openForMs: number): void {
  const store = threeState(breaker, "trip()");
  if (!(typeof openForMs === "number" && openForMs >= 0 && openForMs <= Number.MAX_VALUE))
    throw new RangeError(`openForMs must be a finite number ≥ 0, got ${String(openForMs)}`);
  if (openForMs === 0) return;
  const code = trip(store, internals.slotOf(breaker), openForMs);
  if ((code & CHANGED) !== 0) internals.changed(breaker, code);
}

/** Breaker.merge(): counts calls made elsewhere in the breaker's window. */
export function merge(breaker: Breaker, successes: number, failures: number): void {
  const store = internals.store(breaker);
  for (const [name, value] of [
    ["successes", successes],
    ["failures", failures],
  ] as const) {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffff))
      throw new RangeError(`${name} must be an integer in [0, 2^32), got ${String(value)}`);
  }
  if (successes === 0 && failures === 0) return;
  const code = store.core.merge(internals.slotOf(breaker), successes, failures, store.now());
  if ((code & CHANGED) !== 0) internals.changed(breaker, code);
}
