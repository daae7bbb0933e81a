// The threads build's exports (asc assembly/threads.ts --target threads): the same operations as
// assembly/index.ts, each holding the lock of the slot it works on (assembly/lock.ts) for its whole
// length; the sweeps take each slot's lock in turn (one slot per call of the plain sweep). The memory is imported and shared, so every
// thread's instance works on the same slots. src/engine-js/index.ts's shared engine does the same.

import * as adaptive from "./adaptive";
import { acquire, acquireAs, release } from "./lock";
import { POLICY_SLOT_SIZE, STATS_RECORD_SIZE } from "../src/core/layout";
import * as slots from "./slot";
import * as threeState from "./three-state";

import * as sweep from "./sweep";
import { policyOf } from "./window";

export function initAdaptive(slot: u32, policyIndex: u32, seed: u32, now: f64): void {
  const lock = acquireAs(slot, policyIndex);
  adaptive.initAdaptive(slot, policyIndex, seed, now);
  release(lock);
}

export function allowAdaptive(slot: u32, now: f64): i32 {
  const lock = acquire(slot);
  const decision = adaptive.allowAdaptive(slot, now);
  release(lock);
  return decision;
}

export function recordAdaptive(slot: u32, generation: u32, outcome: u32, now: f64): i32 {
  const lock = acquire(slot);
  const changed = adaptive.recordAdaptive(slot, generation, outcome, now);
  release(lock);
  return changed;
}

export function dropProbability(slot: u32, now: f64): f64 {
  const lock = acquire(slot);
  const probability = adaptive.dropProbability(slot, now);
  release(lock);
  return probability;
}

export function initThreeState(slot: u32, policyIndex: u32, now: f64): void {
  const lock = acquireAs(slot, policyIndex);
  threeState.initThreeState(slot, policyIndex, now);
  release(lock);
}

export function refreshThreeState(slot: u32, now: f64): i32 {
  const lock = acquire(slot);
  const changed = threeState.refreshThreeState(slot, now);
  release(lock);
  return changed;
}

export function tripThreeState(slot: u32, forMs: f64, now: f64): i32 {
  const lock = acquire(slot);
  const changed = threeState.tripThreeState(slot, forMs, now);
  release(lock);
  return changed;
}

export function setMode(slot: u32, mode: u32): void {
  const lock = acquire(slot);
  threeState.setMode(slot, mode);
  release(lock);
}

export function forceState(slot: u32, state: u32, now: f64): i32 {
  const lock = acquire(slot);
  const changed = threeState.forceState(slot, state, now);
  release(lock);
  return changed;
}

export function isolate(slot: u32, delta: i32): void {
  const lock = acquire(slot);
  threeState.isolate(slot, delta);
  release(lock);
}

export function allow(slot: u32, now: f64): i32 {
  const lock = acquire(slot);
  const decision = slots.allow(slot, now);
  release(lock);
  return decision;
}

export function record(slot: u32, generation: u32, outcome: u32, durationMs: f64, now: f64): i32 {
  const lock = acquire(slot);
  const changed = slots.record(slot, generation, outcome, durationMs, now);
  release(lock);
  return changed;
}

export function merge(slot: u32, successes: u32, failures: u32, now: f64): i32 {
  const lock = acquire(slot);
  const changed = slots.merge(slot, successes, failures, now);
  release(lock);
  return changed;
}

/** The sweeps slot by slot, each under its slot's lock (see assembly/sweep.ts). */
export function countDropping(first: u32, end: u32, now: f64): u32 {
  let count: u32 = 0;
  for (let slot = first; slot < end; slot += <u32>load<u16>(policyOf(slot) + POLICY_SLOT_SIZE)) {
    const lock = acquire(slot);
    count += sweep.countDropping(slot, slot + 1, now);
    release(lock);
  }
  return count;
}

export function sweepStats(first: u32, end: u32, now: f64, out: u32, max: u32): u32 {
  let written: u32 = 0;
  for (let slot = first; slot < end && written < max; slot += <u32>load<u16>(policyOf(slot) + POLICY_SLOT_SIZE)) {
    const lock = acquire(slot);
    written += sweep.sweepStats(slot, slot + 1, now, out + written * STATS_RECORD_SIZE, 1);
    release(lock);
  }
  return written;
}
