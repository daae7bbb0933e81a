// Counters saturate: a u32 count that would pass 2^32 − 1 stays there instead of wrapping to a
// small number, which would turn a flood into an empty window. Mirrored by src/engine-js/counter.ts.

/** a + b, held at 2^32 − 1. */
export function saturate(a: u32, b: u32): u32 {
  const sum = a + b;
  return sum < a ? 0xffffffff : sum;
}
