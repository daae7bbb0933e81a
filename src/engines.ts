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
  owner: number,
): { engine: Engine; memory: SharedMemory } {
  if (choice !== "js") {
    try {
      const memory = createSharedWasmMemory(bytes, maxBytes);
      return { engine: createSharedWasmEngine(memory, owner), memory };
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
  return { engine: createSharedJsEngine(memory, owner), memory };
}

/** The SharedArrayBuffer of a shared memory for engine `name`; a TypeError when it is not one. */
export function sharedBuffer(name: EngineName, memory: SharedMemory): SharedArrayBuffer {
  const wasm = name === "wasm";
  if (wasm ? !(memory instanceof WebAssembly.Memory) : !(memory instanceof SharedArrayBuffer)) {
    throw new TypeError(
      `breakerbox: a handle for the ${name} engine carries a ${wasm ? "WebAssembly.Memory" : "SharedArrayBuffer"}; this one does not`,
    );
  }
  return (wasm ? (memory as WebAssembly.Memory).buffer : memory) as SharedArrayBuffer;
}

/** This thread's engine (its number in the box: `owner`) over a shared memory another thread made. */
export function attachSharedEngine(name: EngineName, memory: SharedMemory, owner: number): Engine {
  const wasm = name === "wasm";
  sharedBuffer(name, memory);
  return wasm
    ? createSharedWasmEngine(memory as WebAssembly.Memory, owner)
    : createSharedJsEngine(memory as GrowableSharedArrayBuffer, owner);
}
