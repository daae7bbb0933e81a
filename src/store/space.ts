// Where a store's slots, policy records and seeds come from: a box of one thread
// (./local-space.ts) or a box shared by threads (./shared-space.ts). The Store is one class over
// either, so the hot call sites stay monomorphic; a space is asked off the hot path (a shared
// box's settlements aside).

import type { Store } from "./store.js";

/** Where a store's slots, policy records and seeds come from: a box of one thread, or a shared box. */
export interface Space {
  /** Bytes each slot carries past its policy's own: a shared box's lock word (else 0). */
  readonly lockBytes: number;
  /** Stats records per sweep call. */
  readonly statsChunk: number;
  /** The first slot. */
  slotsStart(store: Store): number;
  /** The end of the last slot made (for a shared box: by any thread). */
  slotsEnd(store: Store): number;
  /** A fresh slot under policy record `index`. */
  allocate(store: Store, index: number): number;
  /** Gives a slot back for reuse (a shared box cannot, and throws). */
  release(store: Store, slot: number): void;
  /** The seed of the next (re)initialised slot's draws. */
  nextSeed(store: Store): number;
  /** An address with room for `bytes` of stats records. */
  statsScratch(store: Store, bytes: number): number;
  /** Policy records written so far (by any thread). */
  policyCount(store: Store): number;
  /** Runs `make` as the only writer of the space's tables; `make` returns the new policy count. */
  addPolicy(store: Store, make: (count: number) => number): void;
  /** A shared space's settlement (its caller checked the generation); a local one has none. */
  settle(
    store: Store,
    slot: number,
    generation: number,
    outcome: number,
    durationMs: number,
  ): number;
}
