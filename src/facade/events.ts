// A breaker's rarely needed state, kept apart so that a million idle breakers stay small: its
// shared errors, its last failure reasons, its state-change listeners and its drop reports. A
// breaker makes its `Extra` on first use.

import {
  CHANGED,
  CHANGED_FROM_SHIFT,
  CHANGED_STATE_MASK,
  CHANGED_TO_SHIFT,
  KIND_ADAPTIVE,
} from "../core/layout.js";
import type { BreakerState } from "../core/types.js";
import { reportedShedding, STATE_NAMES } from "../core/views.js";
import type { Store } from "../store/store.js";
import type { Classify } from "./classify.js";
import type { BoxContext } from "./context.js";
import type { BreakerOpenError, TooManyRequestsError } from "./errors.js";
import type { DropReport } from "./options.js";

/** How many failure reasons a breaker keeps (go-zero keeps 5). */
export const REASONS_KEPT = 5;

export type Listener = (change: { from: BreakerState; to: BreakerState }) => void;

/** A box's listener: every breaker's state changes, with its key. */
export type BoxListener = (change: {
  key: string | undefined;
  from: BreakerState;
  to: BreakerState;
}) => void;

export class Extra {
  /** The breaker's own classifiers (its key's options), if any. */
  classify: Classify | undefined = undefined;
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

  /** Keeps a failure reason (the last REASONS_KEPT). */
  remember(reason: string): void {
    this.reasons ??= [];
    this.reasons[this.reasonCount++ % REASONS_KEPT] = reason;
  }

  /** The last failure reasons, oldest first. */
  recentReasons(): string[] {
    const reasons = this.reasons;
    if (reasons === undefined) return [];
    const total = this.reasonCount;
    const out: string[] = [];
    for (let i = total - Math.min(total, REASONS_KEPT); i < total; i++)
      out.push(reasons[i % REASONS_KEPT]);
    return out;
  }

  /** Tells the listeners of a move from `known` to `to` (or of `from` → `to` when given). */
  notify(to: BreakerState, from: BreakerState = this.known): void {
    const listeners = this.listeners;
    if (listeners === undefined) return;
    this.known = to;
    for (const listener of [...listeners]) {
      try {
        listener({ from, to });
      } catch (error) {
        rethrowLater(error);
      }
    }
  }

  /**
   * Counts a rejection and reports, at most once per `intervalMs` (go-zero's throttled log line).
   */
  reportDrop(key: string | undefined, context: BoxContext): void {
    const now = context.store.now();
    const onDrop = context.onDrop as (report: DropReport) => void;
    this.unreported++;
    if (now - this.reportedAt < context.dropReportMs) return;
    const dropped = this.unreported;
    this.unreported = 0;
    this.reportedAt = now;
    try {
      onDrop({
        key,
        message: "circuit breaker is open and requests dropped",
        dropped,
        suppressed: dropped - 1,
        reasons: this.recentReasons(),
      });
    } catch (error) {
      rethrowLater(error);
    }
  }
}

/** A user callback's error, reported without touching the breaker: rethrown from a microtask. */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * A breaker's slot changed state (`code` with CHANGED, from the core) or may have (a manual
 * change): tells its listeners, once per real change. In a shared box another thread may have
 * moved the slot since, so a change the core reported is told as the core made it.
 */
export function tellListeners(extra: Extra, store: Store, slot: number, code: number): void {
  if (extra.listeners === undefined) return;
  if ((code & CHANGED) !== 0 && (store.lockBytes !== 0 || store.kindOf(slot) === KIND_ADAPTIVE)) {
    const from = STATE_NAMES[(code >>> CHANGED_FROM_SHIFT) & CHANGED_STATE_MASK];
    extra.notify(STATE_NAMES[(code >>> CHANGED_TO_SHIFT) & CHANGED_STATE_MASK], from);
    return;
  }
  const to = shownState(store, slot);
  if (to !== extra.known) extra.notify(to);
}

/**
 * The state listeners are told of: a three-state slot's state or manual mode; an adaptive slot's
 * shedding as last reported by the core ('open' while shedding).
 */
export function shownState(store: Store, slot: number): BreakerState {
  return store.kindOf(slot) === KIND_ADAPTIVE
    ? reportedShedding(store, slot)
    : STATE_NAMES[store.stateCode(slot)];
}

/** Tells a box's listeners of one breaker's change. */
export function tellBox(
  listeners: readonly BoxListener[],
  key: string | undefined,
  from: BreakerState,
  to: BreakerState,
): void {
  for (const listener of [...listeners]) {
    try {
      listener({ key, from, to });
    } catch (error) {
      rethrowLater(error);
    }
  }
}

/** tellBox() for a change the core reported (`code` with CHANGED and the states). */
export function tellBoxOf(
  listeners: readonly BoxListener[],
  key: string | undefined,
  code: number,
) {
  const from = STATE_NAMES[(code >>> CHANGED_FROM_SHIFT) & CHANGED_STATE_MASK];
  tellBox(listeners, key, from, STATE_NAMES[(code >>> CHANGED_TO_SHIFT) & CHANGED_STATE_MASK]);
}
