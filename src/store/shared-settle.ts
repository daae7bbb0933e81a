// Settling on a box shared by threads without the core: a success is counted in the slot's lock
// word (a compare-and-swap, no lock, no core call), tagged with the generation it was settled in
// (src/core/layout.ts, "Shared boxes"), while the slot is in the current bucket: on an adaptive
// slot, and on a three-state slot while FLAG_PASS_ANY_TIME says it is closed and no run of
// successes could trip it (and the call is not slow). If the slot changes state or is
// reset before the next lock holder folds them, the tag no longer matches and they count for
// nothing, as stale permits do.
//
// Batched successes (opt-in per thread, `successBatch` n > 1): this thread holds back up to n − 1
// successes per adaptive breaker before adding them to its lock word in one atomic add, so threads
// sharing a breaker do not pass its cache line back and forth on every call. Held successes are
// published: when the batch is full; before any core operation of this thread on that breaker (a
// failure, a drop decision, a window move: so this thread's own view is always exact); before this
// thread's sweeps and stats; by `flush()`; and within about a millisecond by an unref'd timer once
// the event loop turns. Other threads therefore see a breaker's successes up to n − 1 per thread,
// or ~1 ms, late. A reset drops the breaker's held successes with its window. A thread that ends
// without the event loop turning (or flush()) loses the successes it still holds.

import {
  FLAG_PASS_ANY_TIME,
  FLAG_SHEDDING,
  FLAG_THREE_STATE,
  OUTCOME_SUCCESS,
  SHARED_SUCCESS,
  SHARED_SUCCESS_LIMIT,
  SHARED_TAG_SHIFT,
  SLOT_BUCKET,
  SLOT_FLAGS,
  SLOT_GEN,
  SLOT_POLICY,
} from "../core/layout.js";
import type { Core } from "../core/types.js";
import { lockWordOf } from "../core/views.js";
import type { Store } from "./store.js";

/** Breakers whose batched successes one thread can hold at once (a direct-mapped table). */
const BATCH_WAYS = 1024;

/** settle() on a shared store (its caller checked the generation). */
export function settleShared(
  store: Store,
  slot: number,
  generation: number,
  outcome: number,
  durationMs: number,
): number {
  if (outcome === OUTCOME_SUCCESS) {
    const flags = store.u8[slot + SLOT_FLAGS];
    const policy = store.u8[slot + SLOT_POLICY];
    if (store.u32[(slot + SLOT_BUCKET) >>> 2] !== store.currentBucket(policy)) {
      // the window is due to move: the core folds and rolls first
    } else if ((flags & FLAG_THREE_STATE) === 0) {
      // While shedding, a success may end it: the core reports that.
      if ((flags & FLAG_SHEDDING) !== 0)
        return store.core.record(slot, generation, outcome, durationMs, store.now());
      const batch = store.batch;
      if (batch !== undefined) {
        batch.hold(slot, generation);
        return 0;
      }
      if (countSuccesses(store, slot, generation, 1)) return 0;
    } else if (
      (flags & FLAG_PASS_ANY_TIME) !== 0 &&
      !(durationMs > store.policies.slowCallMs[policy])
    ) {
      if (countSuccesses(store, slot, generation, 1)) return 0;
    }
  }
  return store.core.record(slot, generation, outcome, durationMs, store.now());
}

/**
 * Adds `count` successes of `generation` to the slot's lock word. False, changing nothing, when
 * the word holds successes of another generation or would pass SHARED_SUCCESS_LIMIT: the core
 * must fold it first.
 */
function countSuccesses(store: Store, slot: number, generation: number, count: number): boolean {
  const u32 = store.u32;
  const lock = lockWordOf(store, slot) >>> 2;
  const tag = (generation & 0xff) << SHARED_TAG_SHIFT;
  for (;;) {
    const word = Atomics.load(u32, lock);
    const counted = word >>> 16;
    if ((counted !== 0 && (word & 0xff00) !== tag) || counted + count > SHARED_SUCCESS_LIMIT)
      return false;
    const next = ((word & 0xff) | tag | ((counted + count) * SHARED_SUCCESS)) >>> 0;
    if (Atomics.compareExchange(u32, lock, word, next) === word) return true;
  }
}

/** One thread's batched successes on a shared store (see above). */
export class SuccessBatch {
  private readonly slots = new Uint32Array(BATCH_WAYS);
  private readonly counts = new Uint32Array(BATCH_WAYS);
  private readonly generations = new Uint16Array(BATCH_WAYS);
  private held = 0;
  private timer: unknown = undefined;
  /** The core without the publishing wrapper. */
  private readonly plain: Core;

  /** Turns batching of `size` (> 1) on for `store` in this thread: wraps its core. */
  constructor(
    private readonly store: Store,
    private readonly size: number,
  ) {
    const core = store.core;
    this.plain = core;
    store.core = {
      ...core,
      initAdaptive: (slot, policyIndex, seed, now) => {
        this.dropSlot(slot);
        core.initAdaptive(slot, policyIndex, seed, now);
      },
      allowAdaptive: (slot, now) => {
        this.publishSlot(slot);
        return core.allowAdaptive(slot, now);
      },
      recordAdaptive: (slot, generation, outcome, now) => {
        this.publishSlot(slot);
        return core.recordAdaptive(slot, generation, outcome, now);
      },
      dropProbability: (slot, now) => {
        this.publishSlot(slot);
        return core.dropProbability(slot, now);
      },
      allow: (slot, now) => {
        this.publishSlot(slot);
        return core.allow(slot, now);
      },
      record: (slot, generation, outcome, durationMs, now) => {
        this.publishSlot(slot);
        return core.record(slot, generation, outcome, durationMs, now);
      },
      merge: (slot, successes, failures, now) => {
        this.publishSlot(slot);
        return core.merge(slot, successes, failures, now);
      },
      countDropping: (first, end, now) => {
        this.publishAll();
        return core.countDropping(first, end, now);
      },
      sweepStats: (first, end, now, out, max) => {
        this.publishAll();
        return core.sweepStats(first, end, now, out, max);
      },
    };
    store.batch = this;
  }

  /** Holds back one success of `generation` on `slot`, publishing the batch when it is full. */
  hold(slot: number, generation: number): void {
    const way = (slot >>> 4) & (BATCH_WAYS - 1);
    const slots = this.slots;
    if (slots[way] !== slot || this.generations[way] !== generation) {
      if (slots[way] !== 0) this.publish(way);
      slots[way] = slot;
      this.generations[way] = generation;
      this.held++;
      if (this.timer === undefined) this.arm();
    }
    if (++this.counts[way] >= this.size) this.publish(way);
  }

  /** Publishes every success this thread holds back. */
  publishAll(): void {
    if (this.held === 0) return;
    for (let way = 0; way < BATCH_WAYS; way++) if (this.slots[way] !== 0) this.publish(way);
  }

  private publishSlot(slot: number): void {
    const way = (slot >>> 4) & (BATCH_WAYS - 1);
    if (this.slots[way] === slot) this.publish(way);
  }

  private dropSlot(slot: number): void {
    const way = (slot >>> 4) & (BATCH_WAYS - 1);
    if (this.slots[way] !== slot) return;
    this.slots[way] = 0;
    this.counts[way] = 0;
    this.held--;
  }

  private publish(way: number): void {
    const store = this.store;
    const slot = this.slots[way];
    const count = this.counts[way];
    const generation = this.generations[way];
    this.slots[way] = 0;
    this.counts[way] = 0;
    this.held--;
    // Until the word takes them: when it cannot, the core folds (or drops) what it holds and
    // changes no state; successes of a generation gone by count for nothing.
    while (!countSuccesses(store, slot, generation, count)) {
      if (store.u16[(slot + SLOT_GEN) >>> 1] !== generation) return;
      this.plain.countDropping(slot, slot + 1, store.now());
    }
  }

  private arm(): void {
    const timer = setTimeout(() => {
      this.timer = undefined;
      this.publishAll();
    }, 1) as unknown as { unref?(): unknown };
    timer.unref?.();
    this.timer = timer;
  }
}
