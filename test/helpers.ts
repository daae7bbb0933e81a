// Shared by the suites: every behavioural case runs on both engines.
import type { EngineName } from "../src/core/types.js";
import { checkPolicy } from "../src/facade/check-options.js";
import type { AdaptiveOptions } from "../src/facade/options.js";
import { createLocalStore } from "../src/store/local-space.js";
import { MAX_BYTES, type Store } from "../src/store/store.js";

export const engines: readonly EngineName[] = ["wasm", "js"];

/** A box of one thread's store on `engine`, with `bytes` of slots to start with. */
export function localStore(
  engine: EngineName,
  now: (() => number) | undefined,
  seed: number,
  bytes: number,
): Store {
  return createLocalStore(engine, now, seed, bytes, MAX_BYTES);
}

/** A manual clock: tests move time by assigning `clock.t`. */
export class ManualClock {
  t = 0;
  readonly now = (): number => this.t;
}

/** A box memory on `engine` with one adaptive slot (go-zero's exact algorithm unless told), driven through the core directly. */
export function adaptiveSlot(
  engine: EngineName,
  clock: ManualClock,
  options: AdaptiveOptions = {},
  seed = 42,
) {
  const memory = localStore(engine, clock.now, seed, 4096);
  const policy = memory.policy(checkPolicy("options", { recovery: "go-zero", ...options }));
  const slot = memory.allocate(policy);
  const core = memory.core;
  return {
    memory,
    slot,
    core,
    allow: (): boolean => core.allowAdaptive(slot, clock.t) === 1,
    success: (count = 1): void => {
      for (let i = 0; i < count; i++)
        core.recordAdaptive(slot, memory.generation(slot), 0, clock.t);
    },
    failure: (count = 1): void => {
      for (let i = 0; i < count; i++)
        core.recordAdaptive(slot, memory.generation(slot), 1, clock.t);
    },
    probability: (): number => core.dropProbability(slot, clock.t),
  };
}

/** The bytes of a memory that the box uses (header, policies and slots). */
export function usedBytes(memory: Store): Uint8Array {
  return new Uint8Array(memory.buffer, 0, memory.bytesUsed).slice();
}

/** First byte where the used memories of two boxes differ, or -1 (fast enough to call every step). */
export function firstDifference(a: Store, b: Store): number {
  if (a.bytesUsed !== b.bytesUsed) return Math.min(a.bytesUsed, b.bytesUsed);
  const x = Buffer.from(a.buffer, 0, a.bytesUsed);
  const y = Buffer.from(b.buffer, 0, b.bytesUsed);
  if (x.equals(y)) return -1;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}
