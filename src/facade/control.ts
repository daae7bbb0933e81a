// A breaker's state, manual modes and listeners: the three-state controls behind Breaker's
// getters and methods of the same names.

import { CHANGED, KIND_ADAPTIVE } from "../core/layout.js";
import type { BreakerState } from "../core/types.js";
import { STATE_NAMES } from "../core/views.js";
import type { Store } from "../store/store.js";
import type { Breaker } from "./breaker.js";
import { type BreakerOpenError, dropError } from "./errors.js";
import type { Listener } from "./events.js";
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
  return { engine: store.engineName, ...store.statsOf(internals.slotOf(breaker)), reasons };
}

/** Breaker.openError(): its one BreakerOpenError, made on first use. */
export function openError(breaker: Breaker): BreakerOpenError {
  const extra = internals.more(breaker);
  extra.dropError ??= dropError(breaker.key, () => breaker.retryAfterMs);
  return extra.dropError;
}

/** Sets a manual mode (MODE_*) and tells the listeners if what `state` reports moved. */
export function setMode(breaker: Breaker, mode: number, what: string): void {
  threeState(breaker, what).core.setMode(internals.slotOf(breaker), mode);
  notifyIfMoved(breaker);
}

/** After a manual change: tells the listeners if what `state` reports moved. */
export function notifyIfMoved(breaker: Breaker): void {
  if (internals.extra(breaker)?.listeners === undefined) return;
  if (internals.store(breaker).kindOf(internals.slotOf(breaker)) !== KIND_ADAPTIVE)
    internals.changed(breaker);
}

/** Breaker.isolate(): one more isolation handle, released once. */
export function isolate(breaker: Breaker): { release(): void } {
  const store = threeState(breaker, "isolate()");
  const slot = internals.slotOf(breaker);
  store.core.isolate(slot, 1);
  notifyIfMoved(breaker);
  let released = false;
  return {
    release: () => {
      if (released || internals.isReleased(breaker)) return;
      released = true;
      store.core.isolate(slot, -1);
      notifyIfMoved(breaker);
    },
  };
}

/** Breaker.onStateChange(): adds a listener, returns the function that removes it. */
export function subscribe(breaker: Breaker, listener: Listener): () => void {
  const store = threeState(breaker, "onStateChange()");
  if (typeof listener !== "function") {
    throw new TypeError(`listener must be a function, got ${typeof listener}`);
  }
  const extra = internals.more(breaker);
  if (extra.listeners === undefined) {
    extra.listeners = [];
    extra.known = STATE_NAMES[store.stateCode(internals.slotOf(breaker))];
  }
  const listeners = extra.listeners;
  listeners.push(listener);
  return () => {
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  };
}
