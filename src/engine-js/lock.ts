// Per-slot locks of a shared box. Mirrors assembly/lock.ts (see there for the lock word).
//
// The TypeScript engine's shared mode: `m.i32` is an Int32Array over the SharedArrayBuffer, and
// `Atomics` works the lock word at the end of the slot. Only the shared engine
// (createSharedJsEngine) uses these, always with `m.i32` set.

import {
  FLAG_THREE_STATE, LOCK_SPINS, OUTCOME_SUCCESS, POLICY_RECORD_SIZE, POLICY_SLOT_SIZE, POLICY_TABLE_OFFSET, SHARED_TAG_SHIFT, SLOT_FLAGS, SLOT_GEN,
  SLOT_LOCK_SIZE, SLOT_POLICY, SHARED_OWNER_SHIFT,
} from "../core/layout.js";
import { updatePass } from "./adaptive.js";
import type { Views } from "../core/views.js";
import { count, updateFlags } from "./three-state.js";
import { addSuccesses, policyOf } from "./window.js";

/** Address of the lock word of a slot under policy record `policyIndex`. */
export function lockOf(m: Views, slot: number, policyIndex: number): number {
  return slot + m.u16[(POLICY_TABLE_OFFSET + policyIndex * POLICY_RECORD_SIZE + POLICY_SLOT_SIZE) >>> 1] - SLOT_LOCK_SIZE;
}

/**
 * Takes the lock of `slot` (whose policy byte is set) and folds the successes counted in the lock
 * word, if they are of the slot's generation. Returns the lock's address for `release`.
 */
export function acquire(m: Views, slot: number): number {
  const lock = lockOf(m, slot, m.u8[slot + SLOT_POLICY]);
  const word = take(m, lock);
  const counted = word >>> 16;
  if (counted !== 0 && ((word >>> SHARED_TAG_SHIFT) & 0xff) === (m.u16[(slot + SLOT_GEN) >>> 1] & 0xff)) {
    const policy = policyOf(m, slot);
    if ((m.u8[slot + SLOT_FLAGS] & FLAG_THREE_STATE) === 0) {
      addSuccesses(m, slot, counted);
      updatePass(m, slot, policy);
    } else {
      count(m, slot, policy, OUTCOME_SUCCESS, false, counted);
      updateFlags(m, slot); // the window's sums moved
    }
  }
  return lock;
}

/**
 * Takes the lock of `slot` as a slot of policy record `policyIndex`, for a slot being initialised:
 * successes counted for the slot's previous window are dropped with it.
 */
export function acquireAs(m: Views, slot: number, policyIndex: number): number {
  const lock = lockOf(m, slot, policyIndex);
  take(m, lock);
  return lock;
}

/**
 * Spins until it holds the lock (the held bit and this thread's number set), then takes the
 * counted successes; returns the word it took them from. A lock held past LOCK_SPINS tries is
 * taken over: its holder is gone (a terminated thread), and at most its one call is lost.
 */
export function take(m: Views, lock: number): number {
  const i32 = m.i32!;
  const at = lock >>> 2;
  const mine = (m.owner! << SHARED_OWNER_SHIFT) | 1;
  let word = Atomics.load(i32, at);
  let spins = 0;
  for (;;) {
    if ((word & 1) === 0 || spins >= LOCK_SPINS) {
      if (Atomics.compareExchange(i32, at, word, (word & ~0xff) | mine) === word) break;
    } else {
      spins++;
    }
    word = Atomics.load(i32, at);
  }
  return Atomics.and(i32, at, 0xff);
}

/**
 * Releases a lock `acquire` returned, keeping any successes counted meanwhile; unless another
 * thread has taken it over since (this thread was stopped that long), which now holds it.
 */
export function release(m: Views, lock: number): void {
  const i32 = m.i32!;
  const at = lock >>> 2;
  const mine = (m.owner! << SHARED_OWNER_SHIFT) | 1;
  let word = Atomics.load(i32, at);
  while ((word & 0xff) === mine) {
    const seen = Atomics.compareExchange(i32, at, word, word & ~0xff);
    if (seen === word) return;
    word = seen;
  }
}
