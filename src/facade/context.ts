// What every breaker of one box shares: the store, the permit table and the drop reporter. A box
// (or a standalone breaker's own box of one) makes one and hands it to each breaker it makes.

import type { Store } from "../store/store.js";
import type { DropReport } from "./options.js";
import { Permits } from "./permits.js";

export class BoxContext {
  readonly store: Store;
  readonly permits = new Permits();
  /** Drop reports (BreakerOptions.onDrop), or undefined for silence. */
  readonly onDrop: ((report: DropReport) => void) | undefined;
  readonly dropReportMs: number;

  constructor(store: Store, onDrop: ((report: DropReport) => void) | undefined, dropReportMs: number) {
    this.store = store;
    this.onDrop = onDrop;
    this.dropReportMs = dropReportMs;
  }
}

/** The place of a breaker made by a box: its box's context, its slot and its key. */
export class Placement {
  constructor(
    readonly context: BoxContext,
    readonly slot: number,
    readonly key: string,
  ) {}
}
