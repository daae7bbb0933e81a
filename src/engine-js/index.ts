// The TypeScript engine: the same `Core` as the wasm module, over a plain ArrayBuffer, or, for a
// shared box, over a growable SharedArrayBuffer with the operations of ./threads.ts (each holding
// its slot's lock, as the threads build of the wasm core does). Mirrors assembly/index.ts and
// assembly/threads.ts; every operation binds the current views, which growth replaces.

import type { Engine } from "../core/types.js";
import { type GrowableSharedArrayBuffer, fixedView, type Views, view } from "../core/views.js";
import { allowAdaptive, dropProbability, initAdaptive, recordAdaptive } from "./adaptive.js";
import { allow, merge, record } from "./slot.js";
import { countDropping, sweepStats } from "./sweep.js";
import * as threads from "./threads.js";
import { forceState, initThreeState, isolate, refreshThreeState, setMode, tripThreeState } from "./three-state.js";

/** An engine over `bytes` of zeroed memory of its own. */
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
      tripThreeState: (slot, forMs, now) => tripThreeState(m, slot, forMs, now),
      setMode: (slot, mode) => setMode(m, slot, mode),
      forceState: (slot, state, now) => forceState(m, slot, state, now),
      isolate: (slot, delta) => isolate(m, slot, delta),
      allow: (slot, now) => allow(m, slot, now),
      record: (slot, generation, outcome, durationMs, now) => record(m, slot, generation, outcome, durationMs, now),
      merge: (slot, successes, failures, now) => merge(m, slot, successes, failures, now),
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
 * growth by any of them is seen by all, and each operation holds the slot's lock, as the thread
 * numbered `owner` in the box.
 */
export function createSharedJsEngine(buffer: GrowableSharedArrayBuffer, owner: number): Engine {
  const views = (): Views => ({ ...fixedView(buffer), owner });
  let m: Views = views();
  return {
    name: "js",
    core: {
      initAdaptive: (slot, policyIndex, seed, now) => threads.initAdaptive(m, slot, policyIndex, seed, now),
      allowAdaptive: (slot, now) => threads.allowAdaptive(m, slot, now),
      recordAdaptive: (slot, generation, outcome, now) => threads.recordAdaptive(m, slot, generation, outcome, now),
      dropProbability: (slot, now) => threads.dropProbability(m, slot, now),
      initThreeState: (slot, policyIndex, now) => threads.initThreeState(m, slot, policyIndex, now),
      refreshThreeState: (slot, now) => threads.refreshThreeState(m, slot, now),
      tripThreeState: (slot, forMs, now) => threads.tripThreeState(m, slot, forMs, now),
      setMode: (slot, mode) => threads.setMode(m, slot, mode),
      forceState: (slot, state, now) => threads.forceState(m, slot, state, now),
      isolate: (slot, delta) => threads.isolate(m, slot, delta),
      allow: (slot, now) => threads.allow(m, slot, now),
      record: (slot, generation, outcome, durationMs, now) => threads.record(m, slot, generation, outcome, durationMs, now),
      merge: (slot, successes, failures, now) => threads.merge(m, slot, successes, failures, now),
      countDropping: (first, end, now) => threads.countDropping(m, first, end, now),
      sweepStats: (first, end, now, out, max) => threads.sweepStats(m, first, end, now, out, max),
    },
    // The store asks for the buffer whenever it finds the memory grown (by any thread), and uses
    // no slot past what its views reach: the engine's views are renewed with its own.
    buffer() {
      if (buffer.byteLength !== m.u8.length) m = views();
      return buffer as unknown as ArrayBuffer;
    },
    grow(target) {
      if (target <= buffer.byteLength) return;
      if (target > buffer.maxByteLength) {
        throw new RangeError(
          `breakerbox: a shared box's memory cannot exceed ${buffer.maxByteLength} bytes (asked for ${target})`,
        );
      }
      buffer.grow(target);
      m = views();
    },
  };
}
