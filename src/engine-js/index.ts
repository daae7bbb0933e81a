// The TypeScript engine: the same `Core` as the wasm module, over a plain ArrayBuffer.
// Mirrors assembly/index.ts; every function binds the current views, which growth replaces.

import type { Engine } from "../engine.js";
import { allowAdaptive, dropProbability, initAdaptive, recordAdaptive } from "./adaptive.js";
import { view, type Views } from "./memory.js";
import { allow, record } from "./slot.js";
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
    buffer: () => m.buffer,
    grow(target) {
      if (target <= m.buffer.byteLength) return;
      const next = new ArrayBuffer(target);
      new Uint8Array(next).set(m.u8);
      m = view(next);
    },
  };
}
