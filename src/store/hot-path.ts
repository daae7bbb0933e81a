// The hot path over a store, the same for both engines.
//
// The seam: a call into wasm costs more than a breaker operation, so the facade crosses it only
// when the core has work to do.
//   decide — the core keeps FLAG_PASS equal to "drop ratio ≤ 0", and a window changes only at a
//            bucket boundary or through the core, so while the flag is set and the slot is still in
//            the bucket of `now`, the call passes on reads of the memory alone.
//   settle — while the slot is in the bucket of `now`, a success is counted in the slot's `pending`
//            byte (a shared box: in its lock word, through its space: ./shared-settle.ts); the core folds those in
//            before anything else it does to the slot. A success can only lower a drop ratio, so
//            no decision changes by waiting. Failures, and successes that find the bucket changed
//            or `pending` full, go to the core at once.
// Decisions, and every byte once folded, are therefore those of calling the core per operation
// (test/lockstep.test.ts checks this against both engines driven directly).

import {
  DECISION_DROP,
  DECISION_PASS,
  FLAG_LAST_PASS,
  FLAG_PASS,
  FLAG_PASS_ANY_TIME,
  FLAG_SHEDDING,
  FLAG_THREE_STATE,
  MODE_DISABLED,
  MODE_FORCED_OPEN,
  MODE_NORMAL,
  OUTCOME_SUCCESS,
  PENDING_LIMIT,
  POLICY_FORCE_PASS_MS,
  POLICY_OUTAGE_BUCKETS,
  POLICY_PROTECTION,
  POLICY_RECOVERY,
  RECOVERY_FAST,
  SLOT_BUCKET,
  SLOT_FAILING,
  SLOT_FLAGS,
  SLOT_GEN,
  SLOT_LAST_PASS,
  SLOT_PENDING,
  SLOT_POLICY,
  SLOT_TOTAL,
  STATE_OPEN,
  TS_ISOLATIONS,
  TS_MODE,
  TS_OPEN_UNTIL,
  TS_STATE,
} from "../core/layout.js";
import { bucketAt, recordAt } from "../core/views.js";
import type { Store } from "./store.js";

/**
 * Whether a call on `slot` passes: on the memory alone while the slot passes for its bucket and
 * the time is still in that bucket, else by the core (which then reads the clock). DECISION_*
 * plus CHANGED, as the core's `allow`.
 */
export function decide(store: Store, slot: number): number {
  const flags = store.u8[slot + SLOT_FLAGS];
  if (
    (flags & (FLAG_PASS | FLAG_SHEDDING)) === FLAG_PASS && // passes, and no end of shedding to report
    ((flags & FLAG_PASS_ANY_TIME) !== 0 ||
      store.u32[(slot + SLOT_BUCKET) >>> 2] === store.currentBucket(store.u8[slot + SLOT_POLICY]))
  ) {
    return DECISION_PASS;
  }
  return decideByCore(store, slot, flags);
}

/** decide() when the memory alone cannot pass the call (kept apart: decide() stays inlinable). */
function decideByCore(store: Store, slot: number, flags: number): number {
  const now = store.now();
  if ((flags & FLAG_THREE_STATE) !== 0) {
    if (rejectsAsIs(store, slot, now)) return DECISION_DROP;
  } else if ((flags & FLAG_LAST_PASS) !== 0 && outageDrops(store, slot, now)) {
    return DECISION_DROP;
  }
  return store.core.allow(slot, now);
}

/**
 * Whether a three-state slot rejects this call without the core: a rejection changes nothing
 * (gobreaker counts none), so while no lazy transition is due (open → half-open), an isolated,
 * forced-open or open slot answers DROP with no write.
 */
function rejectsAsIs(store: Store, slot: number, now: number): boolean {
  const mode = store.u8[slot + TS_MODE];
  const open = store.u8[slot + TS_STATE] === STATE_OPEN;
  if (open && mode !== MODE_DISABLED && now >= store.f64[(slot + TS_OPEN_UNTIL) >>> 3])
    return false;
  return (
    store.u32[(slot + TS_ISOLATIONS) >>> 2] !== 0 ||
    mode === MODE_FORCED_OPEN ||
    (open && mode === MODE_NORMAL)
  );
}

/**
 * Whether an adaptive slot with fast recovery drops this call without the core: in an outage
 * such a drop is not counted and changes nothing, so while nothing could end the outage before
 * the decision (no pending successes to fold, the window not due to move) and no probe is due,
 * the core would answer DROP with no write. Mirrors inOutage() and the probe rule of allowAdaptive.
 */
function outageDrops(store: Store, slot: number, now: number): boolean {
  const policy = recordAt(store.u8[slot + SLOT_POLICY]);
  return (
    store.u8[policy + POLICY_RECOVERY] === RECOVERY_FAST &&
    store.u8[slot + SLOT_PENDING] === 0 &&
    store.u8[slot + SLOT_FAILING] >= store.u8[policy + POLICY_OUTAGE_BUCKETS] &&
    store.u32[(slot + SLOT_TOTAL) >>> 2] > store.f64[(policy + POLICY_PROTECTION) >>> 3] &&
    !(
      now - store.f64[(slot + SLOT_LAST_PASS) >>> 3] >
      store.f64[(policy + POLICY_FORCE_PASS_MS) >>> 3]
    ) &&
    store.u32[(slot + SLOT_BUCKET) >>> 2] === bucketAt(store, policy, now)
  );
}

/**
 * Settles one permit of `generation` that took `durationMs` (NaN when not measured). A success
 * that is not slow, in the current bucket, on a slot that is adaptive and not shedding, or closed
 * (and that no run of successes could trip: FLAG_PASS_ANY_TIME), is only counted.
 * Returns CHANGED when the slot changed state.
 */
export function settle(
  store: Store,
  slot: number,
  generation: number,
  outcome: number,
  durationMs: number,
): number {
  if (store.u16[(slot + SLOT_GEN) >>> 1] !== generation) return 0; // stale: the core would ignore it too
  if (store.lockBytes !== 0)
    return store.space.settle(store, slot, generation, outcome, durationMs);
  const flags = store.u8[slot + SLOT_FLAGS];
  const policy = store.u8[slot + SLOT_POLICY];
  if (
    outcome === OUTCOME_SUCCESS &&
    ((flags & FLAG_THREE_STATE) === 0
      ? (flags & FLAG_SHEDDING) === 0 // a success may end shedding: the core reports it
      : (flags & FLAG_PASS_ANY_TIME) !== 0) &&
    !(durationMs > store.policies.slowCallMs[policy]) &&
    store.u32[(slot + SLOT_BUCKET) >>> 2] === store.currentBucket(policy)
  ) {
    const pending = store.u8[slot + SLOT_PENDING];
    if (pending < PENDING_LIMIT) {
      store.u8[slot + SLOT_PENDING] = pending + 1;
      return 0;
    }
  }
  return store.core.record(slot, generation, outcome, durationMs, store.now());
}

/**
 * Opens a three-state slot now for `forMs` (an upstream's Retry-After; the core holds it to the
 * policy's maxOpenMs), or keeps an open one open at least that long. CHANGED or 0.
 */
export function trip(store: Store, slot: number, forMs: number): number {
  return store.core.tripThreeState(slot, forMs, store.now());
}
