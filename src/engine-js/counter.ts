// Counters saturate: a u32 count that would pass 2^32 − 1 stays there instead of wrapping to a
// small number, which would turn a flood into an empty window. Mirrors assembly/counter.ts.

/** a + b, held at 2^32 − 1. */
export function saturate(a: number, b: number): number {
  const sum = a + b;
  return Math.min(sum, 0xffffffff);
}
