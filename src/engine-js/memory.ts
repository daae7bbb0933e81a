// Typed views over the TypeScript engine's ArrayBuffer: the stand-ins for AssemblyScript's
// `load<T>` / `store<T>`. `view(buffer)` is called again after every growth.

export interface Views {
  buffer: ArrayBuffer;
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  f64: Float64Array;
}

export function view(buffer: ArrayBuffer): Views {
  return {
    buffer,
    u8: new Uint8Array(buffer),
    u16: new Uint16Array(buffer),
    u32: new Uint32Array(buffer),
    f64: new Float64Array(buffer),
  };
}
