// The TypeScript engine: the same `Core` as the wasm module, over a plain ArrayBuffer.
// Mirrors assembly/index.ts; every function binds the current views, which growth replaces.

import type { Engine } from "../engine.js";
import { allowAdaptive, dropProbability, initAdaptive, recordAdaptive } from "./adaptive.js";
import { view, type Views } from "./memory.js";
import { countDropping } from "./sweep.js";

export function createJsEngine(bytes: number): Engine {
  let m: Views = view(new ArrayBuffer(bytes));
  return {
    name: "js",
    core: {
      initAdaptive: (slot, policyIndex, seed, now) => initAdaptive(m, slot, policyIndex, seed, now),
      allowAdaptive: (slot, now) => allowAdaptive(m, slot, now),
      recordAdaptive: (slot, generation, outcome, now) => recordAdaptive(m, slot, generation, outcome, now),
      dropProbability: (slot, now) => dropProbability(m, slot, now),
      countDropping: (first, end, now) => countDropping(m, first, end, now),
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
