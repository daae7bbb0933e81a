// Per-slot locks of a shared box. Mirrors assembly/lock.ts.
//
// The TypeScript engine's shared mode: `m.i32` is an Int32Array over the SharedArrayBuffer, and
// `Atomics` takes the lock word at the end of the slot. Only the shared engine
// (createSharedJsEngine) uses them; with `m.i32` undefined they do nothing.

import { POLICY_RECORD_SIZE, POLICY_SLOT_SIZE, POLICY_TABLE_OFFSET, SLOT_LOCK_SIZE, SLOT_POLICY } from "../core/layout.js";
import type { Views } from "./memory.js";

/** Address of the lock word of a slot under policy record `policyIndex`. */
export function lockOf(m: Views, slot: number, policyIndex: number): number {
  return slot + m.u16[(POLICY_TABLE_OFFSET + policyIndex * POLICY_RECORD_SIZE + POLICY_SLOT_SIZE) >>> 1] - SLOT_LOCK_SIZE;
}

/** Takes the lock of `slot` (whose policy byte is set); returns the lock's address for `release`. */
export function acquire(m: Views, slot: number): number {
  return acquireAs(m, slot, m.u8[slot + SLOT_POLICY]);
}

/** Takes the lock of `slot` as a slot of policy record `policyIndex` (for a slot being initialised). */
export function acquireAs(m: Views, slot: number, policyIndex: number): number {
  const i32 = m.i32;
  if (i32 === undefined) return 0;
  const lock = lockOf(m, slot, policyIndex);
  while (Atomics.compareExchange(i32, lock >>> 2, 0, 1) !== 0) { /* spin: the holder is nearly done */ }
  return lock;
}

/** Releases a lock `acquire` returned. */
export function release(m: Views, lock: number): void {
  if (m.i32 !== undefined) Atomics.store(m.i32, lock >>> 2, 0);
}
