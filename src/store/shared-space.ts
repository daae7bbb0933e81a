// The space of a box shared by threads: everything every thread must agree on lives in the box
// header (src/core/layout.ts, "Shared boxes"), read and written with atomics; each thread keeps
// only caches. Slots, policy records and keys are made under the box lock and published by an
// atomic store (`top`, `policies`, a key entry's slot) once complete, so lookups take no lock and
// sweeps never see a half-made slot. Nothing is ever freed: a shared box cannot delete breakers.

import {
  BOX_ARENA_END_OFFSET,
  BOX_ARENA_TOP_OFFSET,
  BOX_FLAGS_OFFSET,
  BOX_KEY_SLOTS_OFFSET,
  BOX_KEYS_OFFSET,
  BOX_LOCK_OFFSET,
  BOX_MAGIC,
  BOX_MAGIC_OFFSET,
  BOX_MAX_BYTES_OFFSET,
  BOX_POLICIES_OFFSET,
  BOX_SEED_OFFSET,
  BOX_SHARED,
  BOX_SLOTS_MADE_OFFSET,
  BOX_SLOTS_START_OFFSET,
  BOX_THREADS_OFFSET,
  BOX_TOP_OFFSET,
  BOX_VERSION_OFFSET,
  FLAG_FREE,
  KEY_ENTRY_SIZE,
  LAYOUT_VERSION,
  LOCK_SPINS,
  POLICY_SLOT_SIZE,
  SHARED_OWNER_SHIFT,
  SHARED_OWNERS,
  SLOT_ALIGN,
  SLOT_FLAGS,
  SLOT_LOCK_SIZE,
  SLOTS_OFFSET,
  STATS_RECORD_SIZE,
} from "../core/layout.js";
import type { EngineChoice, EngineName } from "../core/types.js";
import { recordAt } from "../core/views.js";
import {
  attachSharedEngine,
  chooseSharedEngine,
  type SharedMemory,
  sharedBuffer,
} from "../engines.js";
import { KEY_BYTES_PER_KEY } from "./key-table.js";
import { settleShared } from "./shared-settle.js";
import { Store } from "./store.js";

/**
 * Policy record 0 of a shared box: not a policy but the size of each thread's stats scratch, a
 * pseudo-slot marked free (sweeps step over it) that the core writes stats records into.
 */
const SCRATCH_POLICY = 0;
const SCRATCH_SIZE = 65520; // the largest multiple of SLOT_ALIGN a u16 slot size holds
const SCRATCH_HEADER = 16; // the pseudo-slot's policy and flags bytes stay readable to sweeps
const SCRATCH_RECORDS = Math.floor(
  (SCRATCH_SIZE - SCRATCH_HEADER - SLOT_LOCK_SIZE) / STATS_RECORD_SIZE,
);

/** Whether this realm can share memory between threads (browsers: only when cross-origin isolated). */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer !== "function") return false;
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}

function requireSharedMemory(): void {
  if (!sharedMemoryAvailable()) {
    throw new TypeError(
      "breakerbox: shared: true needs SharedArrayBuffer, which this page does not have: a browser page must be " +
        "cross-origin isolated (served with Cross-Origin-Opener-Policy: same-origin and " +
        "Cross-Origin-Embedder-Policy: require-corp). Without it, use a box per thread.",
    );
  }
}

export class SharedSpace {
  readonly lockBytes = SLOT_LOCK_SIZE;
  readonly statsChunk = SCRATCH_RECORDS;
  /** The memory a handle carries to other threads. */
  readonly memory: SharedMemory;
  /** This thread's stats scratch (a pseudo-slot), made by its first sweep. */
  private scratch = 0;

  /** This thread's number in the box, which its locks carry. */
  readonly owner: number;

  constructor(memory: SharedMemory, owner: number) {
    this.memory = memory;
    this.owner = owner;
  }

  slotsStart(store: Store): number {
    return store.u32[BOX_SLOTS_START_OFFSET >>> 2];
  }

  slotsEnd(store: Store): number {
    const end = Atomics.load(store.u32, BOX_TOP_OFFSET >>> 2);
    store.reach(end);
    store.policies.sync(store); // the slots up to `end` may run policies other threads added
    return end;
  }

  allocate(store: Store, index: number): number {
    return this.locked(store, () => this.allocateLocked(store, index));
  }

  /** Makes a slot under record `index` at `top`, the box lock held; whole before `top` passes it. */
  allocateLocked(store: Store, index: number): number {
    const slot = Atomics.load(store.u32, BOX_TOP_OFFSET >>> 2);
    const size = store.slotSize(index);
    if (slot + size > store.buffer.byteLength) store.reserve(slot + size);
    if (index === SCRATCH_POLICY) store.u8[slot + SLOT_FLAGS] = FLAG_FREE;
    else store.initSlot(slot, index);
    Atomics.store(store.u32, BOX_TOP_OFFSET >>> 2, slot + size);
    return slot;
  }

  release(): void {
    throw new TypeError(
      "breakerbox: a shared box cannot delete breakers (other threads may hold them)",
    );
  }

  nextSeed(store: Store): number {
    const made = Atomics.add(store.u32, BOX_SLOTS_MADE_OFFSET >>> 2, 1) + 1;
    return (store.boxSeed ^ Math.imul(made, 0x9e3779b1)) >>> 0;
  }

  statsScratch(store: Store): number {
    if (this.scratch === 0) {
      this.scratch = this.locked(store, () => this.allocateLocked(store, SCRATCH_POLICY));
    }
    return this.scratch + SCRATCH_HEADER;
  }

  policyCount(store: Store): number {
    return Atomics.load(store.u32, BOX_POLICIES_OFFSET >>> 2);
  }

  addPolicy(store: Store, make: (count: number) => number): void {
    this.locked(store, () => {
      const count = Atomics.load(store.u32, BOX_POLICIES_OFFSET >>> 2);
      Atomics.store(store.u32, BOX_POLICIES_OFFSET >>> 2, make(count)); // published whole
    });
  }

  settle(
    store: Store,
    slot: number,
    generation: number,
    outcome: number,
    durationMs: number,
  ): number {
    return settleShared(store, slot, generation, outcome, durationMs);
  }

  /**
   * Runs `make` holding the box lock, with views current (another thread may have grown the
   * memory). The lock word names this thread (as slot locks do); held past LOCK_SPINS tries, its
   * holder is gone, and the lock is taken over.
   */
  locked<T>(store: Store, make: () => T): T {
    const at = BOX_LOCK_OFFSET >>> 2;
    const mine = (this.owner << SHARED_OWNER_SHIFT) | 1;
    let spins = 0;
    for (;;) {
      const word = Atomics.load(store.u32, at);
      if (word === 0 || spins >= LOCK_SPINS) {
        if (Atomics.compareExchange(store.u32, at, word, mine) === word) break;
      } else {
        spins++;
      }
    }
    try {
      store.refreshViews();
      return make();
    } finally {
      Atomics.compareExchange(store.u32, at, mine, 0); // unless taken over meanwhile
    }
  }
}

/** A store's space as a shared box's (undefined for a box of one thread). */
export function sharedSpaceOf(store: Store): SharedSpace | undefined {
  return store.space instanceof SharedSpace ? store.space : undefined;
}

/** A new shared box's store, with its key table sized for `maxKeys` keys. */
export function createSharedStore(
  choice: EngineChoice,
  clock: (() => number) | undefined,
  seed: number,
  maxBytes: number,
  maxKeys: number,
): Store {
  requireSharedMemory();
  let keySlots = 2;
  while (keySlots < maxKeys * 2) keySlots *= 2;
  const keys = SLOTS_OFFSET;
  const arena = keys + keySlots * KEY_ENTRY_SIZE;
  const arenaEnd = arena + maxKeys * KEY_BYTES_PER_KEY;
  const slotsStart = Math.ceil(arenaEnd / SLOT_ALIGN) * SLOT_ALIGN;
  const bytes = slotsStart + 65536;
  if (bytes > maxBytes) {
    throw new RangeError(
      `breakerbox: a shared box of maxKeys ${maxKeys} needs ${bytes} bytes, past its maxBytes ${maxBytes}`,
    );
  }
  const { engine, memory } = chooseSharedEngine(choice, bytes, maxBytes, 1); // this thread: number 1
  const store = new Store(engine, new SharedSpace(memory, 1), clock, seed, maxBytes);
  store.stamp();
  const u32 = store.u32;
  u32[BOX_FLAGS_OFFSET >>> 2] = BOX_SHARED;
  u32[BOX_KEYS_OFFSET >>> 2] = keys;
  u32[BOX_KEY_SLOTS_OFFSET >>> 2] = keySlots;
  u32[BOX_ARENA_TOP_OFFSET >>> 2] = arena;
  u32[BOX_ARENA_END_OFFSET >>> 2] = arenaEnd;
  u32[BOX_SLOTS_START_OFFSET >>> 2] = slotsStart;
  u32[BOX_TOP_OFFSET >>> 2] = slotsStart;
  u32[BOX_SEED_OFFSET >>> 2] = seed;
  store.f64[BOX_MAX_BYTES_OFFSET >>> 3] = maxBytes;
  store.u16[(recordAt(SCRATCH_POLICY) + POLICY_SLOT_SIZE) >>> 1] = SCRATCH_SIZE;
  Atomics.store(u32, BOX_THREADS_OFFSET >>> 2, 1);
  Atomics.store(u32, BOX_POLICIES_OFFSET >>> 2, 1);
  return store;
}

/** This thread's store over a shared box another thread made (its memory, from a handle). */
export function attachSharedStore(
  name: EngineName,
  memory: SharedMemory,
  clock: (() => number) | undefined,
): Store {
  requireSharedMemory();
  const u32 = new Uint32Array(sharedBuffer(name, memory));
  if (
    u32[BOX_MAGIC_OFFSET >>> 2] !== BOX_MAGIC ||
    u32[BOX_VERSION_OFFSET >>> 2] !== LAYOUT_VERSION ||
    (u32[BOX_FLAGS_OFFSET >>> 2] & BOX_SHARED) === 0
  ) {
    throw new TypeError(
      "breakerbox: the handle's memory is not a shared box of this version of breakerbox",
    );
  }
  // This thread's number in the box, which its lock words carry (1..SHARED_OWNERS, then again).
  const owner = (Atomics.add(u32, BOX_THREADS_OFFSET >>> 2, 1) % SHARED_OWNERS) + 1;
  const engine = attachSharedEngine(name, memory, owner);
  const maxBytes = new Float64Array(engine.buffer())[BOX_MAX_BYTES_OFFSET >>> 3];
  const store = new Store(
    engine,
    new SharedSpace(memory, owner),
    clock,
    u32[BOX_SEED_OFFSET >>> 2],
    maxBytes,
  );
  store.policies.sync(store);
  return store;
}
