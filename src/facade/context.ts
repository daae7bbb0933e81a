// What every breaker of one box shares: the store, the permit table and the drop reporter. A box
// (or a standalone breaker's own box of one) makes one and hands it to each breaker it makes,
// with the breaker's slot.

import { createLocalStore } from "../store/local-space.js";
import { MAX_BYTES, type Store } from "../store/store.js";
import { checkBreakerOptions } from "./check-options.js";
import type { DropReport } from "./options.js";
import { Permits } from "./permits.js";
import { restoreSnapshot, takeInitialState } from "./snapshot.js";

export class BoxContext {
  readonly store: Store;
  readonly permits = new Permits();
  /** Drop reports (BreakerOptions.onDrop), or undefined for silence. */
  readonly onDrop: ((report: DropReport) => void) | undefined;
  readonly dropReportMs: number;

  constructor(
    store: Store,
    onDrop: ((report: DropReport) => void) | undefined,
    dropReportMs: number,
  ) {
    this.store = store;
    this.onDrop = onDrop;
    this.dropReportMs = dropReportMs;
  }
}

/** A standalone breaker's box of one slot, restored from a snapshot if given (with its reasons). */
export function standalone(options: unknown): {
  context: BoxContext;
  slot: number;
  reasons: readonly unknown[] | undefined;
} {
  const initial = takeInitialState("Breaker options", options);
  const checked = checkBreakerOptions("Breaker options", initial.rest);
  const store = createLocalStore(checked.engine, checked.now, checked.seed, 1024, MAX_BYTES);
  const slot = store.allocate(store.policy(initial.policy ?? checked.policy));
  if (initial.snapshot !== undefined) restoreSnapshot(store, slot, initial.snapshot);
  const context = new BoxContext(store, checked.onDrop, checked.dropReportMs);
  return { context, slot, reasons: initial.snapshot?.reasons };
}
