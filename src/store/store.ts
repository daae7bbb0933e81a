// A store: the memory of a box's slots, with the engine that runs the rules over it. One class for
// every kind of box, so the facade's hot call sites stay monomorphic; what differs between a box
// of one thread and a box shared by threads is the `Space` it is handed (where slots, policy
// records and seeds come from, ./local-space.ts and ./shared-space.ts) and, when shared, the lock
// word at the end of each slot (`lockBytes`).
//
// The store may read the layout (through src/core/views.ts) and call the core; it knows nothing of
// options, keys or permits. The hot path over it is ./hot-path.ts.

import {
  BOX_MAGIC,
  BOX_MAGIC_OFFSET,
  BOX_VERSION_OFFSET,
  KIND_ADAPTIVE,
  LAYOUT_VERSION,
  MODE_NORMAL,
  SLOT_POLICY,
  STATE_CLOSED,
  STATS_RECORD_SIZE,
} from "../core/layout.js";
import type { BreakerCounts, Core, Engine, EngineName, Policy, SlotStats } from "../core/types.js";
import {
  bucketAt,
  countsOf,
  generationOf,
  openUntilOf,
  readStats,
  recordAt,
  slotSizeOf,
  stateCodeOf,
} from "../core/views.js";
import { coarseNow, lastReading, tick } from "./clock.js";
import { PolicyTable } from "./policies.js";
import type { SuccessBatch } from "./shared-settle.js";
import type { Space } from "./space.js";

export type { Space };

/** wasm32 addresses 4 GiB; the TypeScript engine keeps the same limit, so both hold the same boxes. */
export const MAX_BYTES = 2 ** 32;

export class Store {
  readonly engine: Engine;
  /** The core, as the store calls it (a shared box with batched successes wraps it: ./batch.ts). */
  core: Core;
  buffer!: ArrayBuffer;
  u8!: Uint8Array;
  u16!: Uint16Array;
  u32!: Uint32Array;
  f64!: Float64Array;
  readonly space: Space;
  readonly lockBytes: number;
  readonly policies: PolicyTable;
  /** The most memory the store may take, in bytes. */
  maxBytes: number;
  /** This thread's batched successes on a shared store (./shared-settle.ts), if turned on. */
  batch: SuccessBatch | undefined;
  private readonly clock: (() => number) | undefined;
  private readonly seed: number;
  private latest = Number.NEGATIVE_INFINITY;
  /** Per policy record, its bucket number for the time, and what it was computed from. */
  private readonly bucketTick = new Int32Array(256).fill(-1);
  private readonly bucketTime = new Float64Array(256).fill(Number.NaN);
  private readonly bucketCurrent = new Uint32Array(256);
  /** The last bucket lookup with the default clock, in plain fields: most boxes run one policy. */
  private lastPolicy = -1;
  private lastTick = -1;
  private lastBucket = 0;

  constructor(
    engine: Engine,
    space: Space,
    clock: (() => number) | undefined,
    seed: number,
    maxBytes: number,
  ) {
    this.engine = engine;
    this.core = engine.core;
    this.space = space;
    this.lockBytes = space.lockBytes;
    this.policies = new PolicyTable();
    this.maxBytes = maxBytes;
    this.batch = undefined;
    this.clock = clock;
    this.seed = seed;
    this.refreshViews();
    this.latest = this.now();
  }

  /** Stamps a new box's header (a shared box's header says more: ./shared-space.ts). */
  stamp(): void {
    this.u32[BOX_MAGIC_OFFSET >>> 2] = BOX_MAGIC;
    this.u32[BOX_VERSION_OFFSET >>> 2] = LAYOUT_VERSION;
  }

  get engineName(): EngineName {
    return this.engine.name;
  }

  /** The box's seed, from which each slot's draws are derived. */
  get boxSeed(): number {
    return this.seed;
  }

  // ── Time ──────────────────────────────────────────────────────────────────────────────────────

  /** The time for this operation: never below the previous reading (NaN counts as no change). */
  now(): number {
    return this.clamp(this.clock === undefined ? coarseNow() : this.readClock());
  }

  /**
   * The user clock's reading: a number of ms. NaN counts as no change, as a reading below the
   * previous one does (clamp); anything else that is not a finite number (Infinity, a string, a
   * Date, a bigint) throws a TypeError naming the clock, before any breaker is touched, since an
   * infinite time would leave an open breaker unable to stay open.
   */
  private readClock(): number {
    const time = (this.clock as () => number)();
    if (
      typeof time === "number" &&
      time !== Number.POSITIVE_INFINITY &&
      time !== Number.NEGATIVE_INFINITY
    ) {
      return time;
    }
    const shown = typeof time === "number" ? String(time) : typeof time;
    throw new TypeError(
      `breakerbox: the clock (the now option) must return a finite number of ms, got ${shown}`,
    );
  }

  /**
   * The number of the bucket the time falls in under policy record `policy`, for the hot path.
   * With the default clock it is worked out once per clock reading; with a user clock, once per
   * distinct time the clock returns.
   */
  currentBucket(policy: number): number {
    if (this.clock === undefined) {
      const reading = tick();
      if (reading === this.lastTick && policy === this.lastPolicy) return this.lastBucket;
      return this.bucketOfReading(policy, reading);
    }
    return this.bucketOfTime(policy);
  }

  /** currentBucket() with the default clock, for a new reading or another policy. */
  private bucketOfReading(policy: number, reading: number): number {
    this.lastTick = reading;
    this.lastPolicy = policy;
    if (this.bucketTick[policy] !== reading) {
      this.bucketTick[policy] = reading;
      this.bucketCurrent[policy] = bucketAt(this, recordAt(policy), this.clamp(lastReading()));
    }
    this.lastBucket = this.bucketCurrent[policy];
    return this.lastBucket;
  }

  /** currentBucket() with a user clock: once per distinct time it returns. */
  private bucketOfTime(policy: number): number {
    const now = this.now();
    if (this.bucketTime[policy] !== now) {
      this.bucketTime[policy] = now;
      this.bucketCurrent[policy] = bucketAt(this, recordAt(policy), now);
    }
    return this.bucketCurrent[policy];
  }

  /** Drops what currentBucket() remembers of policy record `policy` (written over since). */
  forgetBucket(policy: number): void {
    this.bucketTick[policy] = -1;
    this.bucketTime[policy] = Number.NaN;
    if (this.lastPolicy === policy) this.lastPolicy = -1;
  }

  /** `time`, or the latest reading when `time` is below it or NaN. */
  private clamp(time: number): number {
    if (time > this.latest) this.latest = time;
    return this.latest;
  }

  // ── Policies and slots ────────────────────────────────────────────────────────────────────────

  /** The record index of `policy`, written on first use. Equal records are shared. */
  policy(policy: Policy): number {
    return this.policies.index(this, policy);
  }

  /** The checked policy a slot runs. */
  policyOf(slot: number): Policy {
    return this.policies.of(this.u8[slot + SLOT_POLICY]);
  }

  /** KIND_ADAPTIVE or KIND_THREE_STATE: the kind of a slot's policy. */
  kindOf(slot: number): number {
    return this.policies.kinds[this.u8[slot + SLOT_POLICY]];
  }

  /** Whether settlements on `slot` need their duration (its policy counts slow calls). */
  timesCalls(slot: number): boolean {
    return this.policies.slowCallMs[this.u8[slot + SLOT_POLICY]] !== Number.POSITIVE_INFINITY;
  }

  /** Bytes one slot under policy record `index` takes. */
  slotSize(index: number): number {
    return slotSizeOf(this, index);
  }

  /** Bytes the slot at `slot` takes. */
  sizeOf(slot: number): number {
    return slotSizeOf(this, this.u8[slot + SLOT_POLICY]);
  }

  /** A fresh slot under policy record `index`. */
  allocate(index: number): number {
    return this.space.allocate(this, index);
  }

  /** Gives a slot back. Its generation keeps rising, so its permits stay dead. */
  release(slot: number): void {
    this.space.release(this, slot);
  }

  /** Makes a fresh slot at `slot` under policy record `index`. */
  initSlot(slot: number, index: number): void {
    this.policies.refs[index]++;
    if (this.policies.kinds[index] === KIND_ADAPTIVE) {
      this.core.initAdaptive(slot, index, this.space.nextSeed(this), this.now());
    } else {
      this.core.initThreeState(slot, index, this.now());
    }
  }

  /**
   * Grows the memory to hold at least `bytes` (doubling, within `maxBytes`). On failure nothing
   * has changed: the error says what was asked and what the limit is.
   */
  reserve(bytes: number): void {
    if (bytes > this.maxBytes) {
      throw new RangeError(
        `breakerbox: the box needs ${bytes} bytes, past its maxBytes of ${this.maxBytes}; delete breakers or raise maxBytes`,
      );
    }
    try {
      this.engine.grow(Math.min(this.maxBytes, Math.max(bytes, this.buffer.byteLength * 2)));
    } catch (cause) {
      throw new RangeError(`breakerbox: could not grow the box's memory to ${bytes} bytes`, {
        cause,
      });
    } finally {
      this.refreshViews();
    }
  }

  /**
   * Back to a fresh start, permits already issued settle nothing: an adaptive slot gets an empty
   * window; a three-state slot closes with cleared counts and leaves any manual mode (its
   * isolation handles stay open). Returns CHANGED when a three-state slot changed state.
   */
  reset(slot: number): number {
    if (this.kindOf(slot) === KIND_ADAPTIVE) {
      this.core.initAdaptive(
        slot,
        this.u8[slot + SLOT_POLICY],
        this.space.nextSeed(this),
        this.now(),
      );
      return 0;
    }
    this.core.setMode(slot, MODE_NORMAL);
    return this.core.forceState(slot, STATE_CLOSED, this.now()); // a new generation even when closed
  }

  /** Bytes of memory in use (header, tables and every slot ever made). */
  get bytesUsed(): number {
    return this.space.slotsEnd(this);
  }

  // ── What a slot says (core views) ─────────────────────────────────────────────────────────────

  /** Generation of a slot, which its permits carry. */
  generation(slot: number): number {
    return generationOf(this, slot);
  }

  /** A three-state slot's state as a STATS_* code (a manual mode or an isolation overrides it). */
  stateCode(slot: number): number {
    return stateCodeOf(this, slot);
  }

  /** A three-state slot's counts since its last state change, its successes folded first. */
  counts(slot: number): BreakerCounts {
    this.catchUp(slot);
    return countsOf(this, slot);
  }

  /** Until when an open three-state slot stays open. */
  openUntil(slot: number): number {
    return openUntilOf(this, slot);
  }

  // ── Sweeps ────────────────────────────────────────────────────────────────────────────────────

  /** How many live slots would reject the next call now: one sweep of the core over all. */
  countDropping(): number {
    return this.core.countDropping(
      this.space.slotsStart(this),
      this.space.slotsEnd(this),
      this.now(),
    );
  }

  /** Brings one slot up to `now` without changing its state (the sweep's step, on that slot alone). */
  catchUp(slot: number, now = this.now()): void {
    this.core.countDropping(slot, slot + 1, now);
  }

  /** The figures of one slot now: the same core sweep as for a whole box, over that slot alone. */
  statsOf(slot: number): SlotStats {
    const out = this.space.statsScratch(this, STATS_RECORD_SIZE);
    this.core.sweepStats(slot, slot + 1, this.now(), out, 1);
    const records = new Float64Array(this.buffer, out, STATS_RECORD_SIZE / 8);
    return readStats(records, 0, this.kindOf(slot) === KIND_ADAPTIVE);
  }

  /** Renews the views after growth (by this thread or, shared, another). */
  refreshViews(): void {
    const buffer = this.engine.buffer();
    if (buffer === this.buffer && this.u8.length === buffer.byteLength) return;
    this.buffer = buffer;
    const length = buffer.byteLength;
    // Fixed-length views: one that tracks a growable shared buffer indexes ~20× slower in Node 20.
    this.u8 = new Uint8Array(buffer, 0, length);
    this.u16 = new Uint16Array(buffer, 0, length >>> 1);
    this.u32 = new Uint32Array(buffer, 0, length >>> 2);
    this.f64 = new Float64Array(buffer, 0, length >>> 3);
  }

  /** Makes sure this thread's views reach `end` (another thread may have grown the memory). */
  reach(end: number): void {
    if (end > this.u8.length) this.refreshViews();
  }
}
