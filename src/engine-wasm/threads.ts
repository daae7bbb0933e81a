// Loads the threads build of the core (asc --target threads: atomics, an imported shared memory).
// Each thread instantiates the module once per shared box over the box's one WebAssembly.Memory;
// wasm globals are per instance, so everything threads agree on lives in that memory.
// Imported only by the `breakerbox/shared` entry, so the default bundle does not carry it.

import type { Core, Engine } from "../core/types.js";
import { CORE_THREADS_WASM } from "./core-threads.generated.js";

const PAGE = 65536;

let compiled: WebAssembly.Module | undefined;

/** Compiles the threads build once per thread (realm). */
function compileThreadsCore(): WebAssembly.Module {
  if (compiled === undefined) {
    if (typeof WebAssembly !== "object") {
      throw new Error(
        "breakerbox: there is no WebAssembly here; use engine: 'js' for a shared box",
      );
    }
    try {
      compiled = new WebAssembly.Module(Uint8Array.from(CORE_THREADS_WASM, (c) => c.charCodeAt(0)));
    } catch (cause) {
      throw new Error(
        "breakerbox: the WebAssembly threads core could not be compiled here (no wasm threads, or a " +
          "Content-Security-Policy without 'wasm-unsafe-eval'); use engine: 'js' for a shared box",
        { cause },
      );
    }
  }
  return compiled;
}

/** A shared memory of `bytes` that may grow to `maxBytes` (both rounded up to 64 KiB pages). */
export function createSharedWasmMemory(bytes: number, maxBytes: number): WebAssembly.Memory {
  compileThreadsCore(); // first: it explains a missing WebAssembly
  return new WebAssembly.Memory({
    initial: Math.ceil(bytes / PAGE),
    maximum: Math.ceil(maxBytes / PAGE),
    shared: true,
  });
}

/**
 * An engine over `memory`, a shared WebAssembly.Memory that other threads may hold too, for the
 * thread numbered `owner` in the box (its lock words carry the number).
 */
export function createSharedWasmEngine(memory: WebAssembly.Memory, owner: number): Engine {
  const lockOwner = () => owner;
  const instance = new WebAssembly.Instance(compileThreadsCore(), { env: { memory, lockOwner } });
  return {
    name: "wasm",
    core: instance.exports as unknown as Core,
    buffer: () => memory.buffer as unknown as ArrayBuffer, // a SharedArrayBuffer, current after any thread's growth
    grow(target) {
      const pages = Math.ceil(target / PAGE);
      const have = memory.buffer.byteLength / PAGE;
      if (pages > have) memory.grow(pages - have);
    },
  };
}
