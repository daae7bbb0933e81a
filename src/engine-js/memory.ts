// Typed views over the TypeScript engine's buffer: the stand-ins for AssemblyScript's
// `load<T>` / `store<T>`. `view(buffer)` is called again after every growth.

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
