// The friend interface between Breaker and the facade's other modules (box, do, control): what
// they may do to a breaker beyond its public API. Breaker fills `internals` once, in a static
// block, with functions that reach its private fields; nothing here is exported by the package.

import type { EngineName, SlotStats } from "../core/types.js";
import type { Store } from "../store/store.js";
import type { Breaker } from "./breaker.js";
import type { Classify } from "./classify.js";
import type { BoxContext } from "./context.js";
import type { Extra } from "./events.js";
import type { BreakerTotals } from "./totals.js";

/** A snapshot of one breaker. */
export interface BreakerStats extends SlotStats {
  /** Which engine runs the breaker. */
  engine: EngineName;
  /** The last failure reasons given to `reject()`, oldest first (at most 5). */
  reasons: string[];
  /** Lifetime totals, once its box counts them (`box.countTotals()`). */
  totals?: BreakerTotals;
}

/** What the facade's other modules may do to a breaker. */
export interface BreakerInternals {
  slotOf(breaker: Breaker): number;
  /** The breaker's store; throws when the breaker was deleted from its box. */
  store(breaker: Breaker): Store;
  extra(breaker: Breaker): Extra | undefined;
  /** The breaker's Extra, made on first use. */
  more(breaker: Breaker): Extra;
  isReleased(breaker: Breaker): boolean;
  /** Admits a call: DECISION_* (state changes told, drops reported). */
  admit(breaker: Breaker): number;
  /** The start time a call admitted now carries (0 when the policy times no call). */
  issuedAt(breaker: Breaker): number;
  /** Settles one permit of `generation` (see Breaker#settle). */
  /** The breaker's classifiers (its own, else its box's), if any. */
  classify(breaker: Breaker): Classify | undefined;
  /** Adds one to a lifetime total (T_*) of the breaker, if its box counts them. */
  tally(breaker: Breaker, which: number): void;
  /** The breaker's lifetime totals, if its box counts them. */
  totals(breaker: Breaker): BreakerTotals | undefined;
  settle(
    breaker: Breaker,
    generation: number,
    outcome: number,
    issuedAt: number,
    durationMs?: number,
    openForMs?: number,
  ): void;
  /** The breaker's box context (its default timeout, its deadlines). */
  context(breaker: Breaker): BoxContext;
  /** Tells the listeners of a state change the core reported (`code` with CHANGED), or of any move. */
  changed(breaker: Breaker, code?: number): void;
}

export const internals = {} as BreakerInternals;

/** What a deleted breaker throws when used. */
export function releasedError(key: string | undefined): Error {
  return new Error(
    `breakerbox: the breaker for key ${JSON.stringify(key)} was deleted from its box; get a new one with box.get(key)`,
  );
}
