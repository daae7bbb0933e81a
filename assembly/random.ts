// The drop draw's random source: one xorshift32 state per slot, so every breaker replays exactly
// from its seed whatever the other breakers do. Mirrored by src/engine-js/random.ts.

import { SLOT_RNG } from "../src/core/layout";

/** Turns any 32-bit seed into a non-zero xorshift state (the murmur3/splitmix finaliser). */
export function seedState(seed: u32): u32 {
  let z: u32 = seed + 0x9e3779b9;
  z = (z ^ (z >> 16)) * 0x85ebca6b;
  z = (z ^ (z >> 13)) * 0xc2b2ae35;
  z = z ^ (z >> 16);
  return z == 0 ? 1 : z;
}

/** Advances the slot's xorshift32 state (Marsaglia 2003) and returns a uniform draw in [0, 1). */
export function draw(slot: u32): f64 {
  let x = load<u32>(slot + SLOT_RNG);
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  store<u32>(slot + SLOT_RNG, x);
  return <f64>x / 4294967296.0;
}
