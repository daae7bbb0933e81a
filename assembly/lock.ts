// Per-slot locks of a shared box (the threads build). Mirrored by src/engine-js/lock.ts.
//
// A slot of a shared box ends in a u32 lock word (layout: SLOT_LOCK_SIZE):
//
//   bit 0       held: every exported core operation holds it for its whole length, so a roll, a
//               fold, a count or a state change is one indivisible step for every thread, and a
//               state transition has exactly one winner (the thread whose call made it gets CHANGED)
//   bits 8–15   the low byte of the generation the successes below were settled in
//   bits 16–31  successes the facade counted without the core (a compare-and-swap, lock-free: on
//               an adaptive slot while it passes for the current bucket, on a three-state slot
//               while closed); whoever takes the lock next folds them in first, as `pending` is
//               folded in a box of one thread, or drops them if the generation has moved on (a
//               state change or a reset since: such settlements count for nothing, as stale
//               permits do)
//
// Inside the lock the code is the same plain loads and stores as in a box of one thread; the
// lock's compare-and-swap and its atomic release order them for the next holder. The critical
// sections are short and bounded (at most one walk of a window), so a waiter spins.
//
// Only assembly/threads.ts uses these; in a build without threads (ASC_FEATURE_THREADS false) they
// would compile to nothing.

import {
  FLAG_THREE_STATE, LOCK_SPINS, OUTCOME_SUCCESS, POLICY_RECORD_SIZE, POLICY_SLOT_SIZE, POLICY_TABLE_OFFSET, SHARED_TAG_SHIFT, SLOT_FLAGS, SLOT_GEN,
  SLOT_LOCK_SIZE, SLOT_POLICY, SHARED_OWNER_SHIFT,
} from "../src/core/layout";
import { updatePass } from "./adaptive";
import { count, updateFlags } from "./three-state";
import { addSuccesses, policyOf } from "./window";

/** Address of the lock word of a slot under policy record `policyIndex`. */
export function lockOf(slot: u32, policyIndex: u32): u32 {
  return slot + <u32>load<u16>(POLICY_TABLE_OFFSET + policyIndex * POLICY_RECORD_SIZE + POLICY_SLOT_SIZE) - SLOT_LOCK_SIZE;
}

/**
 * Takes the lock of `slot` (whose policy byte is set) and folds the successes counted in the lock
 * word, if they are of the slot's generation. Returns the lock's address for `release`.
 */
export function acquire(slot: u32): u32 {
  if (!ASC_FEATURE_THREADS) return 0;
  const lock = lockOf(slot, <u32>load<u8>(slot + SLOT_POLICY));
  const word = take(lock);
  const counted = word >> 16;
  if (counted != 0 && ((word >> SHARED_TAG_SHIFT) & 0xff) == (<u32>load<u16>(slot + SLOT_GEN) & 0xff)) {
    const policy = policyOf(slot);
    if ((load<u8>(slot + SLOT_FLAGS) & FLAG_THREE_STATE) == 0) {
      addSuccesses(slot, counted);
      updatePass(slot, policy);
    } else {
      count(slot, policy, OUTCOME_SUCCESS, false, counted);
      updateFlags(slot); // the window's sums moved
    }
  }
  return lock;
}

/**
 * Takes the lock of `slot` as a slot of policy record `policyIndex`, for a slot being initialised:
 * successes counted for the slot's previous window are dropped with it.
 */
export function acquireAs(slot: u32, policyIndex: u32): u32 {
  if (!ASC_FEATURE_THREADS) return 0;
  const lock = lockOf(slot, policyIndex);
  take(lock);
  return lock;
}

/**
 * Spins until it holds the lock (the held bit and this thread's number set), then takes the
 * counted successes; returns the word it took them from. A lock held past LOCK_SPINS tries is
 * taken over: its holder is gone (a terminated thread), and at most its one call is lost.
 */
export function take(lock: u32): u32 {
  const mine = holder();
  let word = atomic.load<u32>(lock);
  let spins: u32 = 0;
  for (;;) {
    if ((word & 1) == 0 || spins >= <u32>LOCK_SPINS) {
      if (atomic.cmpxchg<u32>(lock, word, (word & ~0xff) | mine) == word) break;
    } else {
      spins++;
    }
    word = atomic.load<u32>(lock);
  }
  return atomic.and<u32>(lock, 0xff);
}

/** This thread's held lock word (the held bit and its number), asked of the loader once. */
let mine: u32 = 0;
function holder(): u32 {
  if (mine == 0) mine = (lockOwner() << SHARED_OWNER_SHIFT) | 1;
  return mine;
}

/** Imported: this thread's number in the box, 1..SHARED_OWNERS (src/engine-wasm/threads.ts). */
@external("env", "lockOwner")
declare function lockOwner(): u32;

/**
 * Releases a lock `acquire` returned, keeping any successes counted meanwhile; unless another
 * thread has taken it over since (this thread was stopped that long), which now holds it.
 */
export function release(lock: u32): void {
  if (!ASC_FEATURE_THREADS) return;
  let word = atomic.load<u32>(lock);
  while ((word & 0xff) == mine) {
    const seen = atomic.cmpxchg<u32>(lock, word, word & ~0xff);
    if (seen == word) return;
    word = seen;
  }
}
