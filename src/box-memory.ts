// One box's memory and the hot path over it, the same for both engines.
//
// The seam: a call into wasm costs more than a breaker operation, so the facade crosses it only
// when the core has work to do.
//   allow  — the core keeps FLAG_PASS equal to "drop ratio ≤ 0", and a window changes only at a
//            bucket boundary or through the core, so while the flag is set and the slot is still in
//            the bucket of `now`, the call passes on reads of the shared memory alone.
//   accept — while the slot is in the bucket of `now`, a success is counted in the slot's `pending`
//            byte; the core folds those into the bucket before anything else it does to the slot.
//            A success can only lower a drop ratio, so no decision changes by waiting. Failures,
//            and successes that find the bucket changed or `pending` full, go to the core at once.
// Decisions, and every byte once folded, are therefore those of calling the core per operation
// (test/lockstep.test.ts checks this against both engines driven directly).

import {
  ADAPTIVE_HEADER_SIZE, BOX_MAGIC, BOX_MAGIC_OFFSET, BOX_VERSION_OFFSET, BUCKET_SIZE, DECISION_DROP,
  DECISION_PASS, FLAG_FREE, FLAG_LAST_PASS, FLAG_PASS, FLAG_PASS_ANY_TIME, FLAG_THREE_STATE, KIND_ADAPTIVE,
  KIND_THREE_STATE, LAYOUT_VERSION, MODE_DISABLED, MODE_FORCED_OPEN, MODE_NORMAL, OUTCOME_SUCCESS,
  PENDING_LIMIT, POLICY_BACKOFF, POLICY_BUCKETS, POLICY_BUCKET_MS, POLICY_EPOCH, POLICY_FORCE_PASS_MS,
  POLICY_HALF_OPEN_MAX_CALLS, POLICY_HALF_OPEN_SUCCESSES, POLICY_K, POLICY_KIND, POLICY_LIMIT,
  POLICY_MAX_OPEN_MS, POLICY_MIN_K, POLICY_MIN_REQUESTS, POLICY_OPEN_MS, POLICY_OUTAGE_BUCKETS,
  POLICY_PROTECTION, POLICY_RECORD_SIZE, POLICY_RECOVERY, POLICY_SLOT_SIZE, POLICY_SLOW_CALL_MS,
  POLICY_TABLE_OFFSET, POLICY_THRESHOLD, POLICY_TRIP, POLICY_WINDOW, POLICY_WINDOW_CALLS, RECOVERY_FAST,
  SLOTS_OFFSET, SLOT_ALIGN, SLOT_BUCKET, SLOT_FAILING, SLOT_FLAGS, SLOT_GEN, SLOT_LAST_PASS, SLOT_PENDING,
  SLOT_POLICY, SLOT_TOTAL, STATE_CLOSED, STATE_OPEN, STATS_CHANGED_AT, STATS_DROPS, STATS_DROP_RATIO,
  STATS_FAILURES, STATS_RECORD_SIZE, STATS_REQUESTS, STATS_SLOT, STATS_SLOW, STATS_STATE, STATS_SUCCESSES,
  THREE_STATE_HEADER_SIZE, TS_BUCKET_SIZE, TS_COUNT_HEADER_SIZE, TS_ISOLATIONS, TS_MODE, TS_OPEN_UNTIL,
  TS_STATE, WINDOW_COUNT, WINDOW_TIME,
} from "./core/layout.js";
import { coarseNow, lastReading, tick } from "./clock.js";
import { createEngine, type Core, type Engine, type EngineChoice, type EngineName } from "./engine.js";
import { bucketNumber } from "./engine-js/window.js";
import type { BreakerState } from "./breaker.js";
import type { DropReport, Policy } from "./options.js";
import { Permits } from "./permits.js";

/** wasm32 addresses 4 GiB; the TypeScript engine keeps the same limit, so both hold the same boxes. */
export const MAX_BYTES = 2 ** 32;

/** Stats records per sweep call: 4096 × 72 B of scratch past the last slot. */
const STATS_CHUNK = 4096;

/** The state names of a stats record's STATS_* code (its first three are STATE_*). */
export const STATE_NAMES: readonly BreakerState[] = ["closed", "open", "half-open", "forced-open", "disabled", "metrics-only", "isolated"];

/** One breaker's figures, as a stats record (STATS_*) gives them. */
export interface SlotStats {
  /** 'adaptive' or 'three-state'. */
  policy: "adaptive" | "three-state";
  /** As `Breaker.state` reports it, without making a due transition. */
  state: BreakerState;
  /** Adaptive: calls in the window, drops included. Three-state: calls settled since the last state change. */
  requests: number;
  successes: number;
  failures: number;
  /** Adaptive: calls dropped in the window. Three-state: 0 (rejections are not counted). */
  drops: number;
  /** Three-state: slow calls since the last state change. Adaptive: 0. */
  slowCalls: number;
  /** Adaptive: the probability that the next call is dropped. Three-state: 1 while rejecting, else 0. */
  dropRatio: number;
  /** Three-state: when the state last changed (ms, on the clock). Adaptive: undefined. */
  changedAt: number | undefined;
}

export class BoxMemory {
  readonly engine: Engine;
  readonly core: Core;
  readonly permits = new Permits();
  u8!: Uint8Array;
  u16!: Uint16Array;
  u32!: Uint32Array;
  f64!: Float64Array;
  buffer!: ArrayBuffer;

  protected readonly clock: (() => number) | undefined;
  /** The most memory the box may take, in bytes (4 GiB, wasm32's reach, unless told less). */
  maxBytes = MAX_BYTES;
  /** Drop reports (see BreakerOptions.onDrop): the box's reporter, or undefined for silence. */
  onDrop: ((report: DropReport) => void) | undefined = undefined;
  dropReportMs = 300_000;
  private latest: number;
  protected readonly seed: number;
  private slotsMade = 0;
  protected top = SLOTS_OFFSET;
  /** The first slot (a shared box keeps its key table before it). */
  protected slotsStart = SLOTS_OFFSET;
  /** Successes the fast path may count in a slot's `pending`: none in a shared box, where every settlement goes to the core. */
  protected pendingLimit = PENDING_LIMIT;
  /** Bytes each slot adds to its policy's size: a shared box's lock word. */
  lockBytes = 0;
  /** Stats records per sweep call, written into the scratch `statsScratch` gives. */
  protected statsChunk = STATS_CHUNK;
  private readonly freeSlots = new Map<number, number[]>();
  protected readonly policyIndex = new Map<string, number>();
  /** The checked policy behind each record. */
  protected readonly policies: Policy[] = [];
  /** Per policy record: its kind, and the slow-call threshold (Infinity when it counts none). */
  protected readonly kinds = new Uint8Array(POLICY_LIMIT);
  protected readonly slowCallMs = new Float64Array(POLICY_LIMIT).fill(Infinity);
  /**
   * Per policy, the bucket number of the time, cached with what it was computed from: the default
   * clock's reading number (`bucketTick`), or a user clock's time (`bucketTime`).
   */
  private readonly bucketTick = new Int32Array(POLICY_LIMIT).fill(-1);
  private readonly bucketTime = new Float64Array(POLICY_LIMIT).fill(NaN);
  private readonly bucketCurrent = new Uint32Array(POLICY_LIMIT);
  /** The last lookup of the default clock's bucket, in plain fields: most boxes use one policy. */
  private lastPolicy = -1;
  private lastTick = -1;
  private lastBucket = 0;

  /** `engine` is a choice, or (for a shared box) an engine already over its memory. */
  constructor(engine: EngineChoice | Engine, clock: (() => number) | undefined, seed: number, initialSlotBytes: number) {
    this.engine = typeof engine === "object" ? engine : createEngine(engine, SLOTS_OFFSET + initialSlotBytes);
    this.core = this.engine.core;
    this.clock = clock;
    this.seed = seed;
    this.refreshViews();
    this.u32[BOX_MAGIC_OFFSET >>> 2] = BOX_MAGIC;
    this.u32[BOX_VERSION_OFFSET >>> 2] = LAYOUT_VERSION;
    this.latest = -Infinity;
    this.latest = this.now();
  }

  get engineName(): EngineName {
    return this.engine.name;
  }

  /** The time for this operation: never below the previous reading (NaN counts as no change). */
  now(): number {
    return this.clamp(this.clock === undefined ? coarseNow() : this.clock());
  }

  /**
   * The number of the bucket the time falls in under policy record `policy`, for the fast path.
   * With the default clock it is worked out once per clock reading; with a user clock, once per
   * distinct time the clock returns.
   */
  protected currentBucket(policy: number): number {
    if (this.clock === undefined) {
      const reading = tick();
      if (reading === this.lastTick && policy === this.lastPolicy) return this.lastBucket;
      this.lastTick = reading;
      this.lastPolicy = policy;
      if (this.bucketTick[policy] !== reading) {
        this.bucketTick[policy] = reading;
        this.bucketCurrent[policy] = this.bucketAt(policy, this.clamp(lastReading()));
      }
      return (this.lastBucket = this.bucketCurrent[policy]);
    }
    const now = this.now();
    if (this.bucketTime[policy] !== now) {
      this.bucketTime[policy] = now;
      this.bucketCurrent[policy] = this.bucketAt(policy, now);
    }
    return this.bucketCurrent[policy];
  }

  private bucketAt(policy: number, now: number): number {
    return bucketNumber(this, POLICY_TABLE_OFFSET + policy * POLICY_RECORD_SIZE, now);
  }

  /** `time`, or the latest reading when `time` is below it or NaN. */
  private clamp(time: number): number {
    if (time > this.latest) this.latest = time;
    return this.latest;
  }

  /** The policy record index for `policy`, written on first use. Equal policies share a record. */
  policy(policy: Policy): number {
    const key = JSON.stringify(policy);
    const index = this.policyIndex.get(key);
    return index !== undefined ? index : this.addPolicy(policy, key, this.policies.length);
  }

  /** Writes `policy` as record `index` and remembers it under `key`. */
  protected addPolicy(policy: Policy, key: string, index: number): number {
    if (index === POLICY_LIMIT) {
      throw new RangeError(`breakerbox: a box holds at most ${POLICY_LIMIT} distinct policies`);
    }
    const record = POLICY_TABLE_OFFSET + index * POLICY_RECORD_SIZE;
    const f64 = (offset: number, value: number) => { this.f64[(record + offset) >>> 3] = value; };
    const u16 = (offset: number, value: number) => { this.u16[(record + offset) >>> 1] = value; };
    let bytes: number;
    if (policy.kind === "adaptive") {
      bytes = ADAPTIVE_HEADER_SIZE + policy.buckets * BUCKET_SIZE;
      this.u8[record + POLICY_KIND] = KIND_ADAPTIVE;
      f64(POLICY_K, policy.k);
      f64(POLICY_MIN_K, policy.minK);
      f64(POLICY_PROTECTION, policy.protection);
      f64(POLICY_FORCE_PASS_MS, policy.forcePassMs);
      this.u8[record + POLICY_RECOVERY] = policy.recovery;
      this.u8[record + POLICY_OUTAGE_BUCKETS] = policy.outageBuckets;
    } else {
      bytes = THREE_STATE_HEADER_SIZE + (policy.window === WINDOW_TIME ? policy.buckets * TS_BUCKET_SIZE
        : policy.window === WINDOW_COUNT ? TS_COUNT_HEADER_SIZE + policy.windowCalls : 0);
      this.u8[record + POLICY_KIND] = KIND_THREE_STATE;
      this.u8[record + POLICY_TRIP] = policy.trip;
      this.u8[record + POLICY_WINDOW] = policy.window;
      u16(POLICY_HALF_OPEN_MAX_CALLS, policy.halfOpenMaxCalls);
      f64(POLICY_THRESHOLD, policy.threshold);
      f64(POLICY_MIN_REQUESTS, policy.minRequests);
      f64(POLICY_SLOW_CALL_MS, policy.slowCallMs);
      f64(POLICY_OPEN_MS, policy.openMs);
      f64(POLICY_MAX_OPEN_MS, policy.maxOpenMs);
      f64(POLICY_BACKOFF, policy.backoff);
      u16(POLICY_HALF_OPEN_SUCCESSES, policy.halfOpenSuccesses);
      u16(POLICY_WINDOW_CALLS, policy.windowCalls);
    }
    this.u8[record + POLICY_BUCKETS] = policy.buckets;
    u16(POLICY_SLOT_SIZE, Math.ceil((bytes + this.lockBytes) / SLOT_ALIGN) * SLOT_ALIGN);
    f64(POLICY_EPOCH, this.now());
    f64(POLICY_BUCKET_MS, policy.bucketMs);
    this.learnPolicy(index, policy, key);
    return index;
  }

  /** Remembers the checked policy of record `index` (written by this thread or, shared, another). */
  protected learnPolicy(index: number, policy: Policy, key: string): void {
    this.policyIndex.set(key, index);
    this.policies[index] = policy;
    this.kinds[index] = policy.kind === "adaptive" ? KIND_ADAPTIVE : KIND_THREE_STATE;
    if (policy.kind === "three-state") this.slowCallMs[index] = policy.slowCallMs;
  }

  /** The checked policy a slot runs. */
  policyOf(slot: number): Policy {
    return this.policies[this.u8[slot + SLOT_POLICY]];
  }

  /** KIND_ADAPTIVE or KIND_THREE_STATE: the kind of a slot's policy. */
  kindOf(slot: number): number {
    return this.kinds[this.u8[slot + SLOT_POLICY]];
  }

  /** Whether settlements on `slot` need their duration (its policy counts slow calls). */
  timesCalls(slot: number): boolean {
    return this.slowCallMs[this.u8[slot + SLOT_POLICY]] !== Infinity;
  }

  /** Bytes one slot of policy record `index` takes. */
  slotSize(index: number): number {
    return this.u16[(POLICY_TABLE_OFFSET + index * POLICY_RECORD_SIZE + POLICY_SLOT_SIZE) >>> 1];
  }

  /** A fresh slot under policy record `index`: a freed one of the same size, or new memory. */
  allocate(index: number): number {
    const size = this.slotSize(index);
    const free = this.freeSlots.get(size);
    let slot: number;
    if (free !== undefined && free.length > 0) {
      slot = free.pop()!;
    } else {
      slot = this.top;
      if (slot + size > this.buffer.byteLength) this.reserve(slot + size);
      this.top = slot + size;
    }
    this.initSlot(slot, index);
    return slot;
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
      throw new RangeError(`breakerbox: could not grow the box's memory to ${bytes} bytes`, { cause });
    } finally {
      this.refreshViews();
    }
  }

  /** Makes a fresh slot at `slot` under policy record `index`. */
  protected initSlot(slot: number, index: number): void {
    if (this.kinds[index] === KIND_ADAPTIVE) this.core.initAdaptive(slot, index, this.nextSeed(), this.now());
    else this.core.initThreeState(slot, index, this.now());
  }

  /** Returns a slot to its free list. Its generation keeps rising, so its permits stay dead. */
  release(slot: number): void {
    this.u8[slot + SLOT_FLAGS] |= FLAG_FREE;
    const size = this.slotSize(this.u8[slot + SLOT_POLICY]);
    let free = this.freeSlots.get(size);
    if (free === undefined) this.freeSlots.set(size, (free = []));
    free.push(slot);
  }

  /**
   * Back to a fresh start, permits already issued settle nothing: an adaptive slot gets an empty
   * window; a three-state slot closes with cleared counts and leaves any manual mode (its
   * isolation handles stay open). Returns CHANGED when a three-state slot changed state.
   */
  reset(slot: number): number {
    if (this.kindOf(slot) === KIND_ADAPTIVE) {
      this.core.initAdaptive(slot, this.u8[slot + SLOT_POLICY], this.nextSeed(), this.now());
      return 0;
    }
    this.core.setMode(slot, MODE_NORMAL);
    return this.core.forceState(slot, STATE_CLOSED, this.now()); // a new generation even when already closed
  }

  /** Each (re)initialised slot draws from its own sequence, derived from the box's seed. */
  protected nextSeed(): number {
    return (this.seed ^ Math.imul(++this.slotsMade, 0x9e3779b1)) >>> 0;
  }

  /** Bytes of memory in use by the box (header, tables and every slot ever allocated). */
  get bytesUsed(): number {
    return this.slotsEnd();
  }

  /** The end of the last slot made. */
  protected slotsEnd(): number {
    return this.top;
  }

  /** An address with `bytes` of scratch for the core's stats records, valid until the next allocation. */
  protected statsScratch(bytes: number): number {
    const out = this.top;
    if (out + bytes > this.buffer.byteLength) this.reserve(out + bytes);
    return out;
  }

  /** Bytes of memory reserved (the engine's buffer). */
  get bytesReserved(): number {
    return this.buffer.byteLength;
  }

  // ── The hot path ─────────────────────────────────────────────────────────────────────────────

  /**
   * Whether a call on `slot` passes: on the shared memory alone while the slot passes for its
   * bucket and the time is still in that bucket, else by the core (which then reads the clock).
   */
  decide(slot: number): number {
    const flags = this.u8[slot + SLOT_FLAGS];
    if ((flags & FLAG_PASS) !== 0 && ((flags & FLAG_PASS_ANY_TIME) !== 0
      || this.u32[(slot + SLOT_BUCKET) >>> 2] === this.currentBucket(this.u8[slot + SLOT_POLICY]))) {
      return DECISION_PASS;
    }
    const now = this.now();
    if ((flags & FLAG_THREE_STATE) !== 0) {
      // A three-state rejection changes nothing (gobreaker counts none), so while no lazy
      // transition is due (open → half-open), it needs no core call: isolated, forced open, or open.
      const mode = this.u8[slot + TS_MODE];
      const open = this.u8[slot + TS_STATE] === STATE_OPEN;
      if (!(open && mode !== MODE_DISABLED && now >= this.f64[(slot + TS_OPEN_UNTIL) >>> 3])
        && (this.u32[(slot + TS_ISOLATIONS) >>> 2] !== 0 || mode === MODE_FORCED_OPEN || (open && mode === MODE_NORMAL))) {
        return DECISION_DROP;
      }
    } else if ((flags & FLAG_LAST_PASS) !== 0 && this.outageDrops(slot, now)) {
      return DECISION_DROP;
    }
    return this.core.allow(slot, now);
  }

  /**
   * Whether an adaptive slot with fast recovery drops this call without the core: in an outage
   * such a drop is not counted and changes nothing, so while nothing could end the outage before
   * the decision (no pending successes to fold, the window not due to move) and no probe is due,
   * the core would answer DROP with no write. Mirrors inOutage() and the probe rule of allowAdaptive.
   */
  private outageDrops(slot: number, now: number): boolean {
    const policy = POLICY_TABLE_OFFSET + this.u8[slot + SLOT_POLICY] * POLICY_RECORD_SIZE;
    return this.u8[policy + POLICY_RECOVERY] === RECOVERY_FAST
      && this.u8[slot + SLOT_PENDING] === 0
      && this.u8[slot + SLOT_FAILING] >= this.u8[policy + POLICY_OUTAGE_BUCKETS]
      && this.u32[(slot + SLOT_TOTAL) >>> 2] > this.f64[(policy + POLICY_PROTECTION) >>> 3]
      && !(now - this.f64[(slot + SLOT_LAST_PASS) >>> 3] > this.f64[(policy + POLICY_FORCE_PASS_MS) >>> 3])
      && this.u32[(slot + SLOT_BUCKET) >>> 2] === bucketNumber(this, policy, now);
  }

  /** Generation of a slot, which its permits carry. */
  generation(slot: number): number {
    return this.u16[(slot + SLOT_GEN) >>> 1];
  }

  /**
   * Settles one permit of `generation` that took `durationMs` (NaN when not measured). A success
   * that is not slow, in the current bucket, on a slot that is adaptive or closed, is only
   * counted. Returns CHANGED when the slot changed state.
   */
  settle(slot: number, generation: number, outcome: number, durationMs: number): number {
    if (this.u16[(slot + SLOT_GEN) >>> 1] !== generation) return 0; // stale: the core would ignore it too
    const flags = this.u8[slot + SLOT_FLAGS];
    if (outcome === OUTCOME_SUCCESS
      && ((flags & FLAG_THREE_STATE) === 0 || (flags & FLAG_PASS_ANY_TIME) !== 0)
      && !(durationMs > this.slowCallMs[this.u8[slot + SLOT_POLICY]])
      && this.u32[(slot + SLOT_BUCKET) >>> 2] === this.currentBucket(this.u8[slot + SLOT_POLICY])) {
      const pending = this.u8[slot + SLOT_PENDING];
      if (pending < this.pendingLimit) {
        this.u8[slot + SLOT_PENDING] = pending + 1;
        return 0;
      }
    }
    return this.core.record(slot, generation, outcome, durationMs, this.now());
  }

  /** How many live breakers would drop the next call now: one sweep of the core over every slot. */
  countDropping(): number {
    return this.core.countDropping(this.slotsStart, this.slotsEnd(), this.now());
  }

  /**
   * Sweeps every live slot in chunks of `STATS_CHUNK` records, written by the core into a scratch
   * region just past the last slot, and hands each chunk to `visit(records, count)` (a Float64Array
   * over the scratch; record i starts at i · STATS_RECORD_SIZE / 8). The records are only valid
   * during the call.
   */
  sweepStats(visit: (records: Float64Array, count: number) => void): void {
    const chunk = this.statsChunk;
    const out = this.statsScratch(chunk * STATS_RECORD_SIZE);
    const end = this.slotsEnd();
    const now = this.now();
    const records = new Float64Array(this.buffer, out, (chunk * STATS_RECORD_SIZE) / 8);
    let first = this.slotsStart;
    for (;;) {
      const count = this.core.sweepStats(first, end, now, out, chunk);
      if (count > 0) visit(records, count);
      if (count < chunk) return;
      const last = records[((count - 1) * STATS_RECORD_SIZE + STATS_SLOT) / 8];
      first = last + this.slotSize(this.u8[last + SLOT_POLICY]);
    }
  }

  /** Record `index` of a sweep's chunk, as figures. */
  readStats(records: Float64Array, index: number): SlotStats {
    const at = (index * STATS_RECORD_SIZE) / 8;
    const adaptive = this.kindOf(records[at + STATS_SLOT / 8]) === KIND_ADAPTIVE;
    return {
      policy: adaptive ? "adaptive" : "three-state",
      state: STATE_NAMES[records[at + STATS_STATE / 8]],
      requests: records[at + STATS_REQUESTS / 8],
      successes: records[at + STATS_SUCCESSES / 8],
      failures: records[at + STATS_FAILURES / 8],
      drops: records[at + STATS_DROPS / 8],
      slowCalls: records[at + STATS_SLOW / 8],
      dropRatio: records[at + STATS_DROP_RATIO / 8],
      changedAt: adaptive ? undefined : records[at + STATS_CHANGED_AT / 8],
    };
  }

  /**
   * Brings one slot up to `now` without changing its state: pending successes folded, window
   * rolled (the sweep's per-slot step, over that slot alone).
   */
  catchUp(slot: number, now = this.now()): void {
    this.core.countDropping(slot, slot + 1, now);
  }

  /** The figures of one slot now: the same core sweep as for a whole box, over that slot alone. */
  statsOf(slot: number): SlotStats {
    const out = this.statsScratch(STATS_RECORD_SIZE);
    this.core.sweepStats(slot, slot + 1, this.now(), out, 1);
    return this.readStats(new Float64Array(this.buffer, out, STATS_RECORD_SIZE / 8), 0);
  }

  protected refreshViews(): void {
    const buffer = this.engine.buffer();
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }
}
