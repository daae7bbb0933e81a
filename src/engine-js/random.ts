// The drop draw's random source: one xorshift32 state per slot, so every breaker replays exactly
// from its seed whatever the other breakers do. Mirrors assembly/random.ts.

import { SLOT_RNG } from "../core/layout.js";
import type { Views } from "../core/views.js";

/** Turns any 32-bit seed into a non-zero xorshift state (the murmur3/splitmix finaliser). */
export function seedState(seed: number): number {
  let z = (seed + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return z === 0 ? 1 : z;
}

/** Advances the slot's xorshift32 state (Marsaglia 2003) and returns a uniform draw in [0, 1). */
export function draw(m: Views, slot: number): number {
  let x = m.u32[(slot + SLOT_RNG) >>> 2];
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  m.u32[(slot + SLOT_RNG) >>> 2] = x;
  return x / 4294967296.0;
}
