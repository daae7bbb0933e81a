// What every breaker of one box shares: the store, the permit table and the drop reporter, and
// the few things a breaker keeps in JS, held here by the breaker's number in the box (its
// *ordinal*) rather than on an object per breaker: its slot, its key, its tenancy (bumped when the
// breaker is deleted, so that handles of the old one refuse use), its eviction mark, and its
// rarely needed state (`Extra`, made on first use). A keyed breaker therefore costs a map entry
// and a few typed-array cells of heap; a `Breaker` is a handle made when one is asked for.

import { createLocalStore } from "../store/local-space.js";
import { MAX_BYTES, type Store } from "../store/store.js";
import { checkBreakerOptions } from "./check-options.js";
import type { Classify } from "./classify.js";
import { Deadlines } from "./deadlines.js";
import type { BoxListener } from "./events.js";
import { Extra } from "./events.js";
import type { DropReport } from "./options.js";
import { MAX_PLACES, Permits } from "./permits.js";
import { restoreSnapshot, snapshotBytes, takeInitialState } from "./snapshot.js";
import { T_STRIDE } from "./totals.js";

export class BoxContext {
  readonly store: Store;
  readonly permits: Permits;
  /** Drop reports (BreakerOptions.onDrop), or undefined for silence. */
  readonly onDrop: ((report: DropReport) => void) | undefined;
  readonly dropReportMs: number;
  /** The box's classifiers (BreakerOptions.isFailure …), every breaker's default. */
  classify: Classify | undefined = undefined;
  /** Whether the box or any of its breakers has classifiers (else do() looks for none). */
  classifying = false;
  /** Lifetime totals by ordinal (./totals.ts), once the box counts them. */
  totals: Float64Array | undefined = undefined;
  /** The box's state-change listeners (undefined while there are none: no cost). */
  stateListeners: BoxListener[] | undefined = undefined;
  /** The box's default `timeoutMs` for `do()` (undefined: none). */
  readonly timeoutMs: number | undefined;
  /** A token's lease: `timeoutMs`, or Infinity (always a number, so the hot path compares numbers). */
  readonly leaseMs: number;
  /** The deadlines of this box's calls in flight with a timeout, made on first use. */
  #deadlines: Deadlines | undefined = undefined;
  /** By ordinal: the breaker's slot (0: the ordinal is free). */
  slots = new Int32Array(16);
  /** By ordinal: its tenancy; a handle whose tenancy differs belongs to a deleted breaker. */
  tenancy = new Uint32Array(16);
  /** By ordinal: 1 when used since the eviction hand last passed (a box with maxKeys). */
  marks = new Uint8Array(16);
  /** By ordinal: the breaker's key (undefined for a standalone breaker). */
  readonly keys: (string | undefined)[] = [];
  /** By ordinal: the rarely needed state of the breakers that have some. */
  readonly extras = new Map<number, Extra>();
  /** Ordinals handed out so far, and those freed by deletes. */
  count = 0;
  readonly #free: number[] = [];

  constructor(
    store: Store,
    onDrop: ((report: DropReport) => void) | undefined,
    dropReportMs: number,
    timeoutMs?: number,
  ) {
    this.store = store;
    this.onDrop = onDrop;
    this.dropReportMs = dropReportMs;
    this.timeoutMs = timeoutMs;
    this.leaseMs = timeoutMs ?? Number.POSITIVE_INFINITY;
    this.permits = new Permits(MAX_PLACES, this.leaseMs);
  }

  /** The box's deadlines (./deadlines.ts). */
  deadlines(): Deadlines {
    this.#deadlines ??= new Deadlines();
    return this.#deadlines;
  }

  /** Sets the box's classifiers (from its options). */
  classifyAll(classify: Classify | undefined): void {
    this.classify = classify;
    if (classify !== undefined) this.classifying = true;
  }

  /** Sets one breaker's own classifiers (from its key's options). */
  classifyOne(ordinal: number, classify: Classify | undefined): void {
    if (classify === undefined) return;
    this.more(ordinal).classify = classify;
    this.classifying = true;
  }

  /** The classifiers of `ordinal`'s breaker: its own, else the box's. */
  classifyOf(ordinal: number): Classify | undefined {
    return this.extras.get(ordinal)?.classify ?? this.classify;
  }

  /** An ordinal for a new breaker on `slot` under `key`. */
  enter(slot: number, key: string | undefined): number {
    let ordinal = this.#free.pop();
    if (ordinal === undefined) {
      ordinal = this.count++;
      if (ordinal === this.slots.length) this.#grow();
    }
    this.slots[ordinal] = slot;
    this.keys[ordinal] = key;
    this.marks[ordinal] = 0;
    this.totals?.fill(0, ordinal * T_STRIDE, (ordinal + 1) * T_STRIDE);
    return ordinal;
  }

  /** Starts keeping lifetime totals (idempotent): every breaker's count from zero. */
  countTotals(): void {
    this.totals ??= new Float64Array(this.slots.length * T_STRIDE);
  }

  /** Adds one to total `which` (T_*) of `ordinal`, if the box counts them. */
  tally(ordinal: number, which: number): void {
    const totals = this.totals;
    if (totals !== undefined) totals[ordinal * T_STRIDE + which]++;
  }

  /** The breaker of `ordinal` leaves the box: its handles refuse use, its ordinal may be reused. */
  leave(ordinal: number): void {
    this.tenancy[ordinal]++;
    this.slots[ordinal] = 0;
    this.keys[ordinal] = undefined;
    this.marks[ordinal] = 0;
    this.extras.delete(ordinal);
    this.#free.push(ordinal);
  }

  /** The Extra of `ordinal`, made on first use. */
  more(ordinal: number): Extra {
    let extra = this.extras.get(ordinal);
    if (extra === undefined) {
      extra = new Extra();
      this.extras.set(ordinal, extra);
    }
    return extra;
  }

  #grow(): void {
    const length = this.slots.length * 2;
    const slots = new Int32Array(length);
    slots.set(this.slots);
    const tenancy = new Uint32Array(length);
    tenancy.set(this.tenancy);
    const marks = new Uint8Array(length);
    marks.set(this.marks);
    this.slots = slots;
    this.tenancy = tenancy;
    this.marks = marks;
    if (this.totals !== undefined) {
      const totals = new Float64Array(length * T_STRIDE);
      totals.set(this.totals);
      this.totals = totals;
    }
  }
}

/** A standalone breaker's box of one slot, restored from a snapshot if given (with its reasons). */
export function standalone(options: unknown): { context: BoxContext; ordinal: number } {
  const initial = takeInitialState("Breaker options", options);
  const checked = checkBreakerOptions("Breaker options", initial.rest);
  const store = createLocalStore(checked.engine, checked.now, checked.seed, 1024, MAX_BYTES);
  const policy = store.policy(initial.policy ?? checked.policy);
  const bytes = initial.snapshot && snapshotBytes(store, policy, initial.snapshot);
  const slot = store.allocate(policy);
  if (initial.snapshot !== undefined && bytes)
    restoreSnapshot(store, slot, bytes, initial.snapshot.savedAt);
  const context = new BoxContext(store, checked.onDrop, checked.dropReportMs, checked.timeoutMs);
  context.classifyAll(checked.classify);
  const ordinal = context.enter(slot, undefined);
  for (const reason of initial.snapshot?.reasons ?? [])
    context.more(ordinal).remember(String(reason));
  return { context, ordinal };
}
