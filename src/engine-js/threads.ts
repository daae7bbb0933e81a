// The shared mode's operations: the same as the plain core, each holding the lock of the slot it
// works on (./lock.ts) for its whole length; the sweeps take each slot's lock in turn (one slot per
// call of the plain sweep). Mirrors assembly/threads.ts, the threads build of the wasm core.

import { POLICY_SLOT_SIZE, STATS_RECORD_SIZE } from "../core/layout.js";
import type { Views } from "../core/views.js";
import * as adaptive from "./adaptive.js";
import { acquire, acquireAs, release } from "./lock.js";
import * as slots from "./slot.js";
import * as sweep from "./sweep.js";
import * as threeState from "./three-state.js";
import { policyOf } from "./window.js";

export function initAdaptive(m: Views, slot: number, policyIndex: number, seed: number, now: number): void {
  const lock = acquireAs(m, slot, policyIndex);
  adaptive.initAdaptive(m, slot, policyIndex, seed, now);
  release(m, lock);
}

export function allowAdaptive(m: Views, slot: number, now: number): number {
  const lock = acquire(m, slot);
  const decision = adaptive.allowAdaptive(m, slot, now);
  release(m, lock);
  return decision;
}

export function recordAdaptive(m: Views, slot: number, generation: number, outcome: number, now: number): number {
  const lock = acquire(m, slot);
  const changed = adaptive.recordAdaptive(m, slot, generation, outcome, now);
  release(m, lock);
  return changed;
}

export function dropProbability(m: Views, slot: number, now: number): number {
  const lock = acquire(m, slot);
  const probability = adaptive.dropProbability(m, slot, now);
  release(m, lock);
  return probability;
}

export function initThreeState(m: Views, slot: number, policyIndex: number, now: number): void {
  const lock = acquireAs(m, slot, policyIndex);
  threeState.initThreeState(m, slot, policyIndex, now);
  release(m, lock);
}

export function refreshThreeState(m: Views, slot: number, now: number): number {
  const lock = acquire(m, slot);
  const changed = threeState.refreshThreeState(m, slot, now);
  release(m, lock);
  return changed;
}

export function tripThreeState(m: Views, slot: number, forMs: number, now: number): number {
  const lock = acquire(m, slot);
  const changed = threeState.tripThreeState(m, slot, forMs, now);
  release(m, lock);
  return changed;
}

export function setMode(m: Views, slot: number, mode: number): void {
  const lock = acquire(m, slot);
  threeState.setMode(m, slot, mode);
  release(m, lock);
}

export function forceState(m: Views, slot: number, state: number, now: number): number {
  const lock = acquire(m, slot);
  const changed = threeState.forceState(m, slot, state, now);
  release(m, lock);
  return changed;
}

export function isolate(m: Views, slot: number, delta: number): void {
  const lock = acquire(m, slot);
  threeState.isolate(m, slot, delta);
  release(m, lock);
}

export function allow(m: Views, slot: number, now: number): number {
  const lock = acquire(m, slot);
  const decision = slots.allow(m, slot, now);
  release(m, lock);
  return decision;
}

export function record(m: Views, slot: number, generation: number, outcome: number, durationMs: number, now: number): number {
  const lock = acquire(m, slot);
  const changed = slots.record(m, slot, generation, outcome, durationMs, now);
  release(m, lock);
  return changed;
}

export function merge(m: Views, slot: number, successes: number, failures: number, now: number): number {
  const lock = acquire(m, slot);
  const changed = slots.merge(m, slot, successes, failures, now);
  release(m, lock);
  return changed;
}

/** The sweeps slot by slot, each under its slot's lock (see ./sweep.ts). */
export function countDropping(m: Views, first: number, end: number, now: number): number {
  let count = 0;
  for (let slot = first; slot < end; slot += m.u16[(policyOf(m, slot) + POLICY_SLOT_SIZE) >>> 1]) {
    const lock = acquire(m, slot);
    count += sweep.countDropping(m, slot, slot + 1, now);
    release(m, lock);
  }
  return count;
}

export function sweepStats(m: Views, first: number, end: number, now: number, out: number, max: number): number {
  let written = 0;
  for (let slot = first; slot < end && written < max; slot += m.u16[(policyOf(m, slot) + POLICY_SLOT_SIZE) >>> 1]) {
    const lock = acquire(m, slot);
    written += sweep.sweepStats(m, slot, slot + 1, now, out + written * STATS_RECORD_SIZE, 1);
    release(m, lock);
  }
  return written;
}
