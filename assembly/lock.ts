// Per-slot locks of a shared box (the threads build). Mirrored by src/engine-js/lock.ts.
//
// A slot of a shared box ends in a u32 lock word (layout: SLOT_LOCK_SIZE). Every exported core
// operation holds the lock of the slot it works on for its whole length, so a roll, a fold, a
// count or a state change is one indivisible step for every thread, and a state transition has
// exactly one winner: the thread whose call made it gets CHANGED. Inside the lock the code is the
// same plain loads and stores as in a box of one thread; the lock's compare-and-swap and atomic
// store order them for the next holder.
//
// The critical sections are short and bounded (at most one walk of a window), so a waiter spins.
// Only assembly/threads.ts uses them; in a build without threads (ASC_FEATURE_THREADS false) they
// would compile to nothing.

import { POLICY_RECORD_SIZE, POLICY_SLOT_SIZE, POLICY_TABLE_OFFSET, SLOT_LOCK_SIZE, SLOT_POLICY } from "../src/core/layout";

/** Address of the lock word of a slot under policy record `policyIndex`. */
export function lockOf(slot: u32, policyIndex: u32): u32 {
  return slot + <u32>load<u16>(POLICY_TABLE_OFFSET + policyIndex * POLICY_RECORD_SIZE + POLICY_SLOT_SIZE) - SLOT_LOCK_SIZE;
}

/** Takes the lock of `slot` (whose policy byte is set); returns the lock's address for `release`. */
export function acquire(slot: u32): u32 {
  return acquireAs(slot, <u32>load<u8>(slot + SLOT_POLICY));
}

/** Takes the lock of `slot` as a slot of policy record `policyIndex` (for a slot being initialised). */
export function acquireAs(slot: u32, policyIndex: u32): u32 {
  if (!ASC_FEATURE_THREADS) return 0;
  const lock = lockOf(slot, policyIndex);
  while (atomic.cmpxchg<u32>(lock, 0, 1) != 0) { /* spin: the holder is a few hundred instructions from done */ }
  return lock;
}

/** Releases a lock `acquire` returned. */
export function release(lock: u32): void {
  if (ASC_FEATURE_THREADS) atomic.store<u32>(lock, 0);
}
