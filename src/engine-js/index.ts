// The TypeScript engine: the same `Core` as the wasm module, over a plain ArrayBuffer, or, for a
// shared box, over a growable SharedArrayBuffer with each operation holding its slot's lock (as the
// threads build of the wasm core does). Mirrors assembly/index.ts; every function binds the
// current views, which growth replaces.

import { POLICY_SLOT_SIZE, STATS_RECORD_SIZE } from "../core/layout.js";
import type { Engine } from "../engine.js";
import { allowAdaptive, dropProbability, initAdaptive, recordAdaptive } from "./adaptive.js";
import { acquire, acquireAs, release } from "./lock.js";
import { fixedView, view, type GrowableSharedArrayBuffer, type Views } from "./memory.js";
import { allow, record } from "./slot.js";
import { policyOf } from "./window.js";
import { countDropping, sweepStats } from "./sweep.js";
import { forceState, initThreeState, isolate, refreshThreeState, setMode, tripThreeState } from "./three-state.js";

export function createJsEngine(bytes: number): Engine {
  let m: Views = view(new ArrayBuffer(bytes));
  return {
    name: "js",
    core: {
      initAdaptive: (slot, policyIndex, seed, now) => initAdaptive(m, slot, policyIndex, seed, now),
      allowAdaptive: (slot, now) => allowAdaptive(m, slot, now),
      recordAdaptive: (slot, generation, outcome, now) => recordAdaptive(m, slot, generation, outcome, now),
      dropProbability: (slot, now) => dropProbability(m, slot, now),
      initThreeState: (slot, policyIndex, now) => initThreeState(m, slot, policyIndex, now),
      refreshThreeState: (slot, now) => refreshThreeState(m, slot, now),
      tripThreeState: (slot, atLeastMs, now) => tripThreeState(m, slot, atLeastMs, now),
      setMode: (slot, mode) => setMode(m, slot, mode),
      forceState: (slot, state, now) => forceState(m, slot, state, now),
      isolate: (slot, delta) => isolate(m, slot, delta),
      allow: (slot, now) => allow(m, slot, now),
      record: (slot, generation, outcome, durationMs, now) => record(m, slot, generation, outcome, durationMs, now),
      countDropping: (first, end, now) => countDropping(m, first, end, now),
      sweepStats: (first, end, now, out, max) => sweepStats(m, first, end, now, out, max),
    },
    buffer: () => m.buffer as ArrayBuffer,
    grow(target) {
      if (target <= m.buffer.byteLength) return;
      const next = new ArrayBuffer(target);
      new Uint8Array(next).set(m.u8);
      m = view(next);
    },
  };
}

/**
 * The shared mode over `buffer`, a growable SharedArrayBuffer that other threads may hold too:
 * growth by any of them is seen by all (length-tracking views), and each operation holds the
 * slot's lock.
 */
export function createSharedJsEngine(buffer: GrowableSharedArrayBuffer): Engine {
  let m: Views = fixedView(buffer);
  return {
    name: "js",
    core: {
      initAdaptive(slot, policyIndex, seed, now) {
        const lock = acquireAs(m, slot, policyIndex);
        initAdaptive(m, slot, policyIndex, seed, now);
        release(m, lock);
      },
      allowAdaptive(slot, now) {
        const lock = acquire(m, slot);
        const decision = allowAdaptive(m, slot, now);
        release(m, lock);
        return decision;
      },
      recordAdaptive(slot, generation, outcome, now) {
        const lock = acquire(m, slot);
        recordAdaptive(m, slot, generation, outcome, now);
        release(m, lock);
      },
      dropProbability(slot, now) {
        const lock = acquire(m, slot);
        const probability = dropProbability(m, slot, now);
        release(m, lock);
        return probability;
      },
      initThreeState(slot, policyIndex, now) {
        const lock = acquireAs(m, slot, policyIndex);
        initThreeState(m, slot, policyIndex, now);
        release(m, lock);
      },
      refreshThreeState(slot, now) {
        const lock = acquire(m, slot);
        const changed = refreshThreeState(m, slot, now);
        release(m, lock);
        return changed;
      },
      tripThreeState(slot, atLeastMs, now) {
        const lock = acquire(m, slot);
        const changed = tripThreeState(m, slot, atLeastMs, now);
        release(m, lock);
        return changed;
      },
      setMode(slot, mode) {
        const lock = acquire(m, slot);
        setMode(m, slot, mode);
        release(m, lock);
      },
      forceState(slot, state, now) {
        const lock = acquire(m, slot);
        const changed = forceState(m, slot, state, now);
        release(m, lock);
        return changed;
      },
      isolate(slot, delta) {
        const lock = acquire(m, slot);
        isolate(m, slot, delta);
        release(m, lock);
      },
      allow(slot, now) {
        const lock = acquire(m, slot);
        const decision = allow(m, slot, now);
        release(m, lock);
        return decision;
      },
      record(slot, generation, outcome, durationMs, now) {
        const lock = acquire(m, slot);
        const changed = record(m, slot, generation, outcome, durationMs, now);
        release(m, lock);
        return changed;
      },
      countDropping(first, end, now) {
        let count = 0;
        for (let slot = first; slot < end; slot += slotSize(m, slot)) {
          const lock = acquire(m, slot);
          count += countDropping(m, slot, slot + 1, now);
          release(m, lock);
        }
        return count;
      },
      sweepStats(first, end, now, out, max) {
        let written = 0;
        for (let slot = first; slot < end && written < max; slot += slotSize(m, slot)) {
          const lock = acquire(m, slot);
          written += sweepStats(m, slot, slot + 1, now, out + written * STATS_RECORD_SIZE, 1);
          release(m, lock);
        }
        return written;
      },
    },
    // The facade asks for the buffer whenever it finds the memory grown (by any thread), and
    // uses no slot past what its views reach: the engine's views are renewed with its own.
    buffer() {
      if (buffer.byteLength !== m.u8.length) m = fixedView(buffer);
      return buffer as unknown as ArrayBuffer;
    },
    grow(target) {
      if (target <= buffer.byteLength) return;
      if (target > buffer.maxByteLength) {
        throw new RangeError(`breakerbox: a shared box's memory cannot exceed ${buffer.maxByteLength} bytes (asked for ${target})`);
      }
      buffer.grow(target);
      m = fixedView(buffer);
    },
  };
}

/** Bytes of the slot at `slot`, by its policy: the sweeps' step. */
function slotSize(m: Views, slot: number): number {
  return m.u16[(policyOf(m, slot) + POLICY_SLOT_SIZE) >>> 1];
}
