// The one place that chooses an engine: for a box of one thread, and for a box shared by threads.
// Every other module takes the Engine it is handed.
//
// 'auto' takes WebAssembly when it can compile here and the TypeScript engine when it cannot (no
// WebAssembly, or a Content-Security-Policy without 'wasm-unsafe-eval'); 'wasm' throws instead of
// falling back, with the reason.

import type { Engine, EngineChoice, EngineName } from "./core/types.js";
import type { GrowableSharedArrayBuffer } from "./core/views.js";
import { createJsEngine, createSharedJsEngine } from "./engine-js/index.js";
import { createWasmEngine } from "./engine-wasm/loader.js";
import { createSharedWasmEngine, createSharedWasmMemory } from "./engine-wasm/threads.js";

/** An engine with at least `bytes` of zeroed memory of its own. */
export function chooseEngine(choice: EngineChoice, bytes: number): Engine {
  if (choice === "js") return createJsEngine(bytes);
  if (choice === "wasm") return createWasmEngine(bytes);
  try {
    return createWasmEngine(bytes);
  } catch {
    return createJsEngine(bytes);
  }
}

/** The memory a shared box's engine runs over, and that `share()` hands to other threads. */
export type SharedMemory = WebAssembly.Memory | SharedArrayBuffer;

/**
 * A new shared memory of `bytes` that may grow to `maxBytes`, with this thread's engine over it:
 * the threads build of the wasm core over a shared WebAssembly.Memory, or the TypeScript engine's
 * shared mode over a growable SharedArrayBuffer.
 */
export function chooseSharedEngine(
  choice: EngineChoice,
  bytes: number,
  maxBytes: number,
): { engine: Engine; memory: SharedMemory } {
  if (choice !== "js") {
    try {
      const memory = createSharedWasmMemory(bytes, maxBytes);
      return { engine: createSharedWasmEngine(memory), memory };
    } catch (error) {
      if (choice === "wasm") throw error;
    }
  }
  const Growable = SharedArrayBuffer as unknown as new (
    length: number,
    options: { maxByteLength: number },
  ) => GrowableSharedArrayBuffer;
  const memory = new Growable(Math.min(Math.ceil(bytes / 65536) * 65536, maxBytes), {
    maxByteLength: maxBytes,
  });
  return { engine: createSharedJsEngine(memory), memory };
}

/** This thread's engine over a shared memory another thread made with `chooseSharedEngine`. */
export function attachSharedEngine(name: EngineName, memory: SharedMemory): Engine {
  const wasm = name === "wasm";
  if (wasm ? !(memory instanceof WebAssembly.Memory) : !(memory instanceof SharedArrayBuffer)) {
    throw new TypeError(
      `breakerbox: a handle for the ${name} engine carries a ${wasm ? "WebAssembly.Memory" : "SharedArrayBuffer"}; this one does not`,
    );
  }
  return wasm
    ? createSharedWasmEngine(memory as WebAssembly.Memory)
    : createSharedJsEngine(memory as GrowableSharedArrayBuffer);
}
