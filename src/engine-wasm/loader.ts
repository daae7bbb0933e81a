// Loads the AssemblyScript core. The release .wasm is embedded in core.generated.ts
// (rebuilt by `npm run build:wasm`), compiled synchronously once per process and instantiated
// once per box: each box owns one WebAssembly.Memory. The module has no imports, and its exports
// are used as they are: no bindings, no glue, nothing between the facade and the core.

import type { Core, Engine } from "../core/types.js";
import { CORE_WASM } from "./core.generated.js";

const PAGE = 65536;
/** wasm32 can address 4 GiB: 65536 pages. */
const MAX_PAGES = 65536;

let compiled: WebAssembly.Module | undefined;

/** Compiles the core once; throws when WebAssembly is missing or compiling is forbidden (CSP). */
export function compileCore(): WebAssembly.Module {
  if (compiled === undefined) {
    if (typeof WebAssembly !== "object") {
      throw new Error("breakerbox: there is no WebAssembly here; use engine: 'js' or 'auto'");
    }
    try {
      compiled = new WebAssembly.Module(Uint8Array.from(CORE_WASM, (c) => c.charCodeAt(0)));
    } catch (cause) {
      throw new Error(
        "breakerbox: the WebAssembly core could not be compiled here (a Content-Security-Policy without " +
          "'wasm-unsafe-eval' forbids it); use engine: 'js' or 'auto'",
        { cause },
      );
    }
  }
  return compiled;
}

export function createWasmEngine(bytes: number): Engine {
  const module = compileCore(); // first: it explains a missing WebAssembly
  const instance = new WebAssembly.Instance(module, {});
  const exports = instance.exports as unknown as Core & { memory: WebAssembly.Memory };
  const memory = exports.memory;
  const engine: Engine = {
    name: "wasm",
    core: exports,
    buffer: () => memory.buffer,
    grow(target) {
      const pages = Math.ceil(target / PAGE);
      const have = memory.buffer.byteLength / PAGE;
      if (pages <= have) return;
      if (pages > MAX_PAGES) {
        throw new RangeError(
          `breakerbox: a box's memory cannot exceed 4 GiB (asked for ${target} bytes)`,
        );
      }
      memory.grow(pages - have);
    },
  };
  engine.grow(bytes);
  return engine;
}
