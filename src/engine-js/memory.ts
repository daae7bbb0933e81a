// Typed views over the TypeScript engine's buffer: the stand-ins for AssemblyScript's
// `load<T>` / `store<T>`. `view(buffer)` is called again after every growth.

import { LOCK_SPINS } from "../core/layout.js";

export interface Views {
  buffer: ArrayBuffer | SharedArrayBuffer;
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  f64: Float64Array;
  /** A shared engine's only (createSharedJsEngine): the view `Atomics` takes the slot locks through. */
  i32?: Int32Array | undefined;
}

export function view(buffer: ArrayBuffer | SharedArrayBuffer): Views {
  return {
    buffer,
    u8: new Uint8Array(buffer),
    u16: new Uint16Array(buffer),
    u32: new Uint32Array(buffer),
    f64: new Float64Array(buffer),
  };
}

/** A SharedArrayBuffer made with `maxByteLength` (ES2024; Node 20 and current browsers have it). */
export type GrowableSharedArrayBuffer = SharedArrayBuffer & { readonly maxByteLength: number; grow(bytes: number): void };

/**
 * Thrown by a shared box's lock taken LOCK_SPINS times in vain (by both engines: the threads build
 * of the wasm core imports it).
 */
export function lockTimeout(lock: number): never {
  throw new Error(
    `breakerbox: the lock at ${lock} of a shared box has been held past ${LOCK_SPINS} tries: the thread holding it `
      + "was most likely stopped inside a breaker call (worker.terminate()) and the breaker cannot be used again",
  );
}

/**
 * Views of a fixed length over a shared buffer's first `byteLength` bytes. A view that tracks a
 * growable SharedArrayBuffer's length is ~20× slower to index in Node 20 (V8 does not optimise
 * it); a fixed one is as fast as any, and is made again when the memory has grown.
 */
export function fixedView(buffer: SharedArrayBuffer): Views {
  const length = buffer.byteLength;
  return {
    buffer,
    u8: new Uint8Array(buffer, 0, length),
    u16: new Uint16Array(buffer, 0, length >>> 1),
    u32: new Uint32Array(buffer, 0, length >>> 2),
    f64: new Float64Array(buffer, 0, length >>> 3),
    i32: new Int32Array(buffer, 0, length >>> 2),
  };
}
