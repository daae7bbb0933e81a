// The space of a box of one thread: slots bump-allocated past the policy table, freed slots kept
// on a free list by size, and the counters in JS fields (the header's shared fields stay 0).

import { FLAG_FREE, SLOT_FLAGS, SLOT_GEN, SLOT_POLICY, SLOTS_OFFSET } from "../core/layout.js";
import type { EngineChoice } from "../core/types.js";
import { chooseEngine } from "../engines.js";
import { type Space, Store } from "./store.js";

/** Stats records per sweep call: 4096 × 72 B of scratch past the last slot. */
const STATS_CHUNK = 4096;

export class LocalSpace implements Space {
  readonly lockBytes = 0;
  readonly statsChunk = STATS_CHUNK;
  private top = SLOTS_OFFSET;
  private slotsMade = 0;
  private policies = 0;
  private readonly freeSlots = new Map<number, number[]>();

  slotsStart(): number {
    return SLOTS_OFFSET;
  }

  slotsEnd(): number {
    return this.top;
  }

  /** A freed slot of the same size, or new memory past the last slot. */
  allocate(store: Store, index: number): number {
    const size = store.slotSize(index);
    const free = this.freeSlots.get(size);
    let slot: number;
    if (free !== undefined && free.length > 0) {
      slot = free.pop() as number;
    } else {
      slot = this.top;
      if (slot + size > store.buffer.byteLength) store.reserve(slot + size);
      this.top = slot + size;
    }
    store.initSlot(slot, index);
    return slot;
  }

  /** Frees a slot; its generation moves on, so that every permit issued on it is stale. */
  release(store: Store, slot: number): void {
    store.u8[slot + SLOT_FLAGS] |= FLAG_FREE;
    store.u16[(slot + SLOT_GEN) >>> 1]++;
    store.policies.refs[store.u8[slot + SLOT_POLICY]]--; // at 0, its record may serve a new policy
    const size = store.slotSize(store.u8[slot + SLOT_POLICY]);
    let free = this.freeSlots.get(size);
    if (free === undefined) {
      free = [];
      this.freeSlots.set(size, free);
    }
    free.push(slot);
  }

  /** Each (re)initialised slot draws from its own sequence, derived from the box's seed. */
  nextSeed(store: Store): number {
    return (store.boxSeed ^ Math.imul(++this.slotsMade, 0x9e3779b1)) >>> 0;
  }

  /** Scratch just past the last slot, valid until the next allocation. */
  statsScratch(store: Store, bytes: number): number {
    const out = this.top;
    if (out + bytes > store.buffer.byteLength) store.reserve(out + bytes);
    return out;
  }

  policyCount(): number {
    return this.policies;
  }

  addPolicy(_store: Store, make: (count: number) => number): void {
    this.policies = make(this.policies);
  }

  /** Never called: the hot path settles a box of one thread itself (src/store/hot-path.ts). */
  settle(): number {
    return 0;
  }
}

/** A box of one thread's store: room for `initialSlotBytes` of slots (within `maxBytes`) to start with. */
export function createLocalStore(
  choice: EngineChoice,
  clock: (() => number) | undefined,
  seed: number,
  initialSlotBytes: number,
  maxBytes: number,
): Store {
  const store = new Store(
    chooseEngine(choice, Math.min(SLOTS_OFFSET + initialSlotBytes, maxBytes)),
    new LocalSpace(),
    clock,
    seed,
    maxBytes,
  );
  store.stamp();
  return store;
}
