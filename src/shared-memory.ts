// The memory of a box shared by threads: everything every thread must agree on lives in the
// memory itself (src/core/layout.ts, "Shared boxes"), read and written with atomics; each thread
// keeps only caches (policies decoded, key → Breaker, the clock).
//
// What changes from a box of one thread:
//   - every core operation holds its slot's lock (a lock word at the end of each slot), so the fast
//     path's `pending` successes are off: a settlement always goes to the core;
//   - slots, policy records and keys are made under the box lock (header `lock`), and published by
//     an atomic store (`top`, `policies`, a key entry's slot) after they are complete;
//   - keys live in a hash table in the memory, so a key names the same slot in every thread;
//   - nothing is ever freed: a shared box cannot delete breakers.

import { BoxMemory } from "./box-memory.js";
import {
  BOX_ARENA_END_OFFSET, BOX_ARENA_TOP_OFFSET, BOX_FLAGS_OFFSET, BOX_KEYS_OFFSET, BOX_KEY_COUNT_OFFSET,
  BOX_KEY_SLOTS_OFFSET, BOX_LOCK_OFFSET, BOX_MAGIC, BOX_MAGIC_OFFSET, BOX_MAX_BYTES_OFFSET, BOX_POLICIES_OFFSET,
  BOX_SEED_OFFSET, BOX_SHARED, BOX_SLOTS_MADE_OFFSET, BOX_SLOTS_START_OFFSET, BOX_TOP_OFFSET, BOX_VERSION_OFFSET,
  FLAG_FREE, KEY_AT, KEY_ENTRY_SIZE, KEY_HASH, KEY_LENGTH, KEY_SLOT, KIND_ADAPTIVE, KIND_THREE_STATE,
  LAYOUT_VERSION, LOCK_SPINS, POLICY_BACKOFF, POLICY_BUCKETS, POLICY_BUCKET_MS, POLICY_FORCE_PASS_MS, POLICY_HALF_OPEN_MAX_CALLS,
  POLICY_HALF_OPEN_SUCCESSES, POLICY_K, POLICY_KIND, POLICY_MAX_OPEN_MS, POLICY_MIN_K, POLICY_MIN_REQUESTS,
  POLICY_OPEN_MS, POLICY_OUTAGE_BUCKETS, POLICY_PROTECTION, POLICY_RECORD_SIZE, POLICY_RECOVERY, POLICY_SLOT_SIZE,
  POLICY_SLOW_CALL_MS, POLICY_TABLE_OFFSET, POLICY_THRESHOLD, POLICY_TRIP, POLICY_WINDOW, POLICY_WINDOW_CALLS,
  FLAG_PASS_ANY_TIME, FLAG_THREE_STATE, OUTCOME_SUCCESS, SHARED_SUCCESS, SHARED_SUCCESS_LIMIT, SHARED_TAG_SHIFT, SLOTS_OFFSET, SLOT_ALIGN, SLOT_BUCKET, SLOT_FLAGS, SLOT_GEN,
  SLOT_LOCK_SIZE, SLOT_POLICY, STATS_RECORD_SIZE,
} from "./core/layout.js";
import type { Core, Engine } from "./engine.js";
import { createSharedJsEngine } from "./engine-js/index.js";
import { lockOf } from "./engine-js/lock.js";
import { fixedView, lockTimeout, type GrowableSharedArrayBuffer } from "./engine-js/memory.js";
import { createSharedWasmEngine, createSharedWasmMemory } from "./engine-wasm/threads.js";
import type { Policy } from "./options.js";

/** Bytes of key arena per key a shared box can hold (keys are stored as UTF-16 code units). */
export const KEY_BYTES_PER_KEY = 64;

/**
 * Policy record 0 of a shared box: not a policy but the size of each thread's stats scratch, a
 * pseudo-slot marked free (sweeps step over it) that the core writes stats records into.
 */
const SCRATCH_POLICY = 0;
const SCRATCH_SIZE = 65520; // the largest multiple of SLOT_ALIGN a u16 slot size holds
const SCRATCH_HEADER = 16; // the pseudo-slot's policy and flags bytes stay readable to sweeps
/** Breakers whose batched successes one thread can hold at once (a direct-mapped table). */
const BATCH_WAYS = 1024;
const SCRATCH_RECORDS = Math.floor((SCRATCH_SIZE - SCRATCH_HEADER - SLOT_LOCK_SIZE) / STATS_RECORD_SIZE);

/** What `box.share()` returns: post it to a worker and pass it to `SharedBreakerBox.attach`. */
export interface ShareHandle {
  readonly type: "breakerbox/shared";
  readonly version: number;
  readonly engine: "wasm" | "js";
  /** The box's memory: a shared WebAssembly.Memory (wasm) or a growable SharedArrayBuffer (js). */
  readonly memory: WebAssembly.Memory | SharedArrayBuffer;
  /** Policy record of the box's default policy. */
  readonly defaultPolicy: number;
}

/** Whether this realm can share memory between threads (browsers: only when cross-origin isolated). */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer !== "function") return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return isolated !== false;
}

function requireSharedMemory(): void {
  if (!sharedMemoryAvailable()) {
    throw new TypeError(
      "breakerbox: shared: true needs SharedArrayBuffer, which this page does not have: a browser page must be "
        + "cross-origin isolated (served with Cross-Origin-Opener-Policy: same-origin and "
        + "Cross-Origin-Embedder-Policy: require-corp). Without it, use a box per thread.",
    );
  }
}

/** FNV-1a over the key's UTF-16 code units. */
function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

export class SharedBoxMemory extends BoxMemory {
  /** The memory object a handle carries. */
  readonly shared: WebAssembly.Memory | SharedArrayBuffer;
  /** This thread's stats scratch (a pseudo-slot), made by its first sweep. */
  private scratch = 0;
  /** Batched successes (see batchSuccesses): the batch size, and a direct-mapped table of held counts. */
  private successBatch = 1;
  private batchSlot: Uint32Array | undefined = undefined;
  private batchCount: Uint32Array | undefined = undefined;
  private batchGeneration: Uint16Array | undefined = undefined;
  private held = 0;
  private timer: unknown = undefined;
  private unbatched: Core | undefined = undefined;
  /** Policy records this thread has decoded. */
  private knownPolicies = 0;

  private constructor(engine: Engine, shared: WebAssembly.Memory | SharedArrayBuffer, clock: (() => number) | undefined, seed: number) {
    super(engine, clock, seed, 0);
    // Assigned, not redeclared: redefining a base class's field on the instance would turn the
    // object's properties into a dictionary in V8, and every `this.u8` on the hot path with them.
    this.pendingLimit = 0;
    this.lockBytes = SLOT_LOCK_SIZE;
    this.statsChunk = SCRATCH_RECORDS;
    this.shared = shared;
  }

  /** A new shared box's memory, with its key table sized for `maxKeys` keys. */
  static create(choice: "wasm" | "js" | "auto", clock: (() => number) | undefined, seed: number, maxBytes: number, maxKeys: number): SharedBoxMemory {
    requireSharedMemory();
    let keySlots = 2;
    while (keySlots < maxKeys * 2) keySlots *= 2;
    const keys = SLOTS_OFFSET;
    const arena = keys + keySlots * KEY_ENTRY_SIZE;
    const arenaEnd = arena + maxKeys * KEY_BYTES_PER_KEY;
    const slotsStart = Math.ceil(arenaEnd / SLOT_ALIGN) * SLOT_ALIGN;
    const bytes = slotsStart + 65536;
    if (bytes > maxBytes) {
      throw new RangeError(`breakerbox: a shared box of maxKeys ${maxKeys} needs ${bytes} bytes, past its maxBytes ${maxBytes}`);
    }
    let engine: Engine | undefined;
    let shared: WebAssembly.Memory | SharedArrayBuffer | undefined;
    if (choice !== "js") {
      try {
        shared = createSharedWasmMemory(bytes, maxBytes);
        engine = createSharedWasmEngine(shared);
      } catch (error) {
        if (choice === "wasm") throw error; // 'auto' takes the TypeScript engine, as for a box of one thread
      }
    }
    if (engine === undefined) {
      const SharedBuffer = SharedArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => SharedArrayBuffer;
      const buffer = new SharedBuffer(Math.min(Math.ceil(bytes / 65536) * 65536, maxBytes), { maxByteLength: maxBytes }) as GrowableSharedArrayBuffer;
      engine = createSharedJsEngine(buffer);
      shared = buffer;
    }
    const box = new SharedBoxMemory(engine, shared!, clock, seed);
    const u32 = box.u32;
    u32[BOX_FLAGS_OFFSET >>> 2] = BOX_SHARED;
    u32[BOX_KEYS_OFFSET >>> 2] = keys;
    u32[BOX_KEY_SLOTS_OFFSET >>> 2] = keySlots;
    u32[BOX_ARENA_TOP_OFFSET >>> 2] = arena;
    u32[BOX_ARENA_END_OFFSET >>> 2] = arenaEnd;
    u32[BOX_SLOTS_START_OFFSET >>> 2] = slotsStart;
    u32[BOX_TOP_OFFSET >>> 2] = slotsStart;
    u32[BOX_SEED_OFFSET >>> 2] = seed;
    box.f64[BOX_MAX_BYTES_OFFSET >>> 3] = maxBytes;
    box.u16[(POLICY_TABLE_OFFSET + SCRATCH_POLICY * POLICY_RECORD_SIZE + POLICY_SLOT_SIZE) >>> 1] = SCRATCH_SIZE;
    Atomics.store(u32, BOX_POLICIES_OFFSET >>> 2, 1);
    box.adopt();
    return box;
  }

  /** This thread's view of a shared box's memory, from a handle another thread's `share()` made. */
  static attach(handle: ShareHandle, clock: (() => number) | undefined): SharedBoxMemory {
    requireSharedMemory();
    const wasm = handle.engine === "wasm";
    if (wasm ? !(handle.memory instanceof WebAssembly.Memory) : !(handle.memory instanceof SharedArrayBuffer)) {
      throw new TypeError(`breakerbox: a handle for the ${handle.engine} engine carries a ${wasm ? "WebAssembly.Memory" : "SharedArrayBuffer"}; this one does not`);
    }
    const engine = wasm
      ? createSharedWasmEngine(handle.memory as WebAssembly.Memory)
      : createSharedJsEngine(handle.memory as GrowableSharedArrayBuffer);
    const u32 = new Uint32Array(engine.buffer());
    if (u32[BOX_MAGIC_OFFSET >>> 2] !== BOX_MAGIC || u32[BOX_VERSION_OFFSET >>> 2] !== LAYOUT_VERSION
      || (u32[BOX_FLAGS_OFFSET >>> 2] & BOX_SHARED) === 0) {
      throw new TypeError("breakerbox: the handle's memory is not a shared box of this version of breakerbox");
    }
    const box = new SharedBoxMemory(engine, handle.memory, clock, u32[BOX_SEED_OFFSET >>> 2]);
    box.adopt();
    return box;
  }

  /** Reads what the header says into this thread's fields. */
  private adopt(): void {
    this.slotsStart = this.u32[BOX_SLOTS_START_OFFSET >>> 2];
    this.maxBytes = this.f64[BOX_MAX_BYTES_OFFSET >>> 3];
    this.syncPolicies();
  }

  /** A handle for `attach` in another thread. */
  handle(defaultPolicy: number): ShareHandle {
    return { type: "breakerbox/shared", version: LAYOUT_VERSION, engine: this.engine.name, memory: this.shared, defaultPolicy };
  }

  // ── The box lock ─────────────────────────────────────────────────────────────────────────────

  private lockBox(): void {
    let spins = 0;
    while (Atomics.compareExchange(this.u32, BOX_LOCK_OFFSET >>> 2, 0, 1) !== 0) {
      if (++spins === LOCK_SPINS) lockTimeout(BOX_LOCK_OFFSET); // held for one allocation, normally
    }
  }

  private unlockBox(): void {
    Atomics.store(this.u32, BOX_LOCK_OFFSET >>> 2, 0);
  }

  /** Runs `make` holding the box lock, with views current. */
  private locked<T>(make: () => T): T {
    this.lockBox();
    try {
      this.refreshViews(); // another thread may have grown the memory
      return make();
    } finally {
      this.unlockBox();
    }
  }

  // ── Policies ─────────────────────────────────────────────────────────────────────────────────

  override policy(policy: Policy): number {
    const key = JSON.stringify(policy);
    let index = this.policyIndex.get(key);
    if (index !== undefined) return index;
    this.syncPolicies();
    index = this.policyIndex.get(key);
    if (index !== undefined) return index;
    return this.locked(() => {
      this.syncPolicies();
      const known = this.policyIndex.get(key);
      if (known !== undefined) return known;
      const next = Atomics.load(this.u32, BOX_POLICIES_OFFSET >>> 2);
      this.addPolicy(policy, key, next);
      Atomics.store(this.u32, BOX_POLICIES_OFFSET >>> 2, next + 1); // published whole
      this.knownPolicies = next + 1;
      return next;
    });
  }

  /** Decodes the policy records other threads wrote since this thread last looked. */
  syncPolicies(): void {
    const count = Atomics.load(this.u32, BOX_POLICIES_OFFSET >>> 2);
    for (let index = this.knownPolicies; index < count; index++) {
      const policy = this.decodePolicy(POLICY_TABLE_OFFSET + index * POLICY_RECORD_SIZE);
      if (policy !== undefined) this.learnPolicy(index, policy, JSON.stringify(policy));
    }
    if (count > this.knownPolicies) this.knownPolicies = count;
  }

  /** The checked policy a record holds, with its fields in the order options.ts makes them (so JSON keys match). */
  private decodePolicy(record: number): Policy | undefined {
    const u8 = (offset: number) => this.u8[record + offset];
    const u16 = (offset: number) => this.u16[(record + offset) >>> 1];
    const f64 = (offset: number) => this.f64[(record + offset) >>> 3];
    const kind = u8(POLICY_KIND);
    if (kind === KIND_ADAPTIVE) {
      return {
        kind: "adaptive", buckets: u8(POLICY_BUCKETS), bucketMs: f64(POLICY_BUCKET_MS), k: f64(POLICY_K), minK: f64(POLICY_MIN_K),
        protection: f64(POLICY_PROTECTION), forcePassMs: f64(POLICY_FORCE_PASS_MS), recovery: u8(POLICY_RECOVERY),
        outageBuckets: u8(POLICY_OUTAGE_BUCKETS),
      };
    }
    if (kind === KIND_THREE_STATE) {
      return {
        kind: "three-state", trip: u8(POLICY_TRIP), threshold: f64(POLICY_THRESHOLD), minRequests: f64(POLICY_MIN_REQUESTS),
        slowCallMs: f64(POLICY_SLOW_CALL_MS), window: u8(POLICY_WINDOW), buckets: u8(POLICY_BUCKETS), bucketMs: f64(POLICY_BUCKET_MS),
        windowCalls: u16(POLICY_WINDOW_CALLS), openMs: f64(POLICY_OPEN_MS), maxOpenMs: f64(POLICY_MAX_OPEN_MS),
        backoff: f64(POLICY_BACKOFF), halfOpenMaxCalls: u16(POLICY_HALF_OPEN_MAX_CALLS), halfOpenSuccesses: u16(POLICY_HALF_OPEN_SUCCESSES),
      };
    }
    return undefined; // the stats scratch record
  }

  // ── Slots ────────────────────────────────────────────────────────────────────────────────────

  override allocate(index: number): number {
    return this.locked(() => this.allocateLocked(index));
  }

  /** Makes a slot under record `index` at `top`; the box lock is held. It is whole before `top` passes it. */
  private allocateLocked(index: number): number {
    const slot = Atomics.load(this.u32, BOX_TOP_OFFSET >>> 2);
    const size = this.slotSize(index);
    if (slot + size > this.buffer.byteLength) this.reserve(slot + size);
    if (index === SCRATCH_POLICY) {
      this.u8[slot + SLOT_FLAGS] = FLAG_FREE;
    } else {
      this.initSlot(slot, index);
    }
    Atomics.store(this.u32, BOX_TOP_OFFSET >>> 2, slot + size);
    return slot;
  }

  /**
   * As BoxMemory's, but the fast path counts a success in the slot's lock word (a compare-and-swap,
   * no lock, no core call), tagged with the generation it was settled in: on an adaptive slot in
   * the current bucket, on a three-state slot while it is closed (and the call not slow). If the
   * slot changes state or is reset before the next lock holder folds them, the tag no longer
   * matches and they count for nothing, as stale permits do.
   */
  override settle(slot: number, generation: number, outcome: number, durationMs: number): number {
    const u8 = this.u8;
    if (outcome === OUTCOME_SUCCESS && this.u16[(slot + SLOT_GEN) >>> 1] === generation) {
      const flags = u8[slot + SLOT_FLAGS];
      const policy = u8[slot + SLOT_POLICY];
      if ((flags & FLAG_THREE_STATE) === 0) {
        if (this.u32[(slot + SLOT_BUCKET) >>> 2] === this.currentBucket(policy)) {
          if (this.successBatch > 1) {
            this.hold(slot, generation);
            return 0;
          }
          if (this.countSuccesses(slot, generation, 1)) return 0;
        }
      } else if ((flags & FLAG_PASS_ANY_TIME) !== 0 && !(durationMs > this.slowCallMs[policy])) {
        if (this.countSuccesses(slot, generation, 1)) return 0;
      }
    }
    return this.core.record(slot, generation, outcome, durationMs, this.now());
  }

  /**
   * Adds `count` successes of `generation` to the slot's lock word. False, changing nothing, when
   * the word holds successes of another generation or would pass SHARED_SUCCESS_LIMIT: the core
   * must fold it first.
   */
  private countSuccesses(slot: number, generation: number, count: number): boolean {
    const u32 = this.u32;
    const lock = lockOf(this, slot, this.u8[slot + SLOT_POLICY]) >>> 2;
    const tag = (generation & 0xff) << SHARED_TAG_SHIFT;
    for (;;) {
      const word = Atomics.load(u32, lock);
      const counted = word >>> 16;
      if ((counted !== 0 && (word & 0xff00) !== tag) || counted + count > SHARED_SUCCESS_LIMIT) return false;
      const next = ((word & 0xff) | tag | ((counted + count) * SHARED_SUCCESS)) >>> 0;
      if (Atomics.compareExchange(u32, lock, word, next) === word) return true;
    }
  }

  // ── Batched successes (opt-in, per thread) ─────────────────────────────────────────────────────
  //
  // With `successBatch` n > 1 this thread holds back up to n − 1 successes per adaptive breaker
  // before adding them to its lock word in one atomic add, so threads sharing a breaker do not pass
  // its cache line back and forth on every call. Held successes are published: when the batch is
  // full; before any core operation of this thread on that breaker (a failure, a drop decision, a
  // window move: so this thread's own view is always exact); before this thread's sweeps and stats;
  // by `flush()`; and within about a millisecond by an unref'd timer once the event loop turns.
  // Other threads therefore see a breaker's successes up to n − 1 per thread, or ~1 ms, late. A
  // reset drops the breaker's held successes with its window. A thread that ends without the event
  // loop turning (or flush()) loses the successes it still holds.

  /** Turns batching on for this thread (see above); `batch` is an integer ≥ 1 (1: off). */
  batchSuccesses(batch: number): void {
    this.successBatch = batch;
    if (batch === 1 || this.batchSlot !== undefined) return;
    this.batchSlot = new Uint32Array(BATCH_WAYS);
    this.batchCount = new Uint32Array(BATCH_WAYS);
    this.batchGeneration = new Uint16Array(BATCH_WAYS);
    const core = this.core;
    const batched: Core = {
      initAdaptive: (slot, policyIndex, seed, now) => { this.dropSlot(slot); core.initAdaptive(slot, policyIndex, seed, now); },
      allowAdaptive: (slot, now) => { this.publishSlot(slot); return core.allowAdaptive(slot, now); },
      recordAdaptive: (slot, generation, outcome, now) => { this.publishSlot(slot); core.recordAdaptive(slot, generation, outcome, now); },
      dropProbability: (slot, now) => { this.publishSlot(slot); return core.dropProbability(slot, now); },
      initThreeState: core.initThreeState,
      refreshThreeState: core.refreshThreeState,
      tripThreeState: core.tripThreeState,
      setMode: core.setMode,
      forceState: core.forceState,
      isolate: core.isolate,
      allow: (slot, now) => { this.publishSlot(slot); return core.allow(slot, now); },
      record: (slot, generation, outcome, durationMs, now) => { this.publishSlot(slot); return core.record(slot, generation, outcome, durationMs, now); },
      countDropping: (first, end, now) => { this.publishAll(); return core.countDropping(first, end, now); },
      sweepStats: (first, end, now, out, max) => { this.publishAll(); return core.sweepStats(first, end, now, out, max); },
    };
    this.unbatched = core;
    (this as { core: Core }).core = batched;
  }

  /** Publishes every success this thread holds back. */
  publishAll(): void {
    if (this.held === 0) return;
    const slots = this.batchSlot!;
    for (let way = 0; way < BATCH_WAYS; way++) if (slots[way] !== 0) this.publish(way);
  }

  private publishSlot(slot: number): void {
    const way = (slot >>> 4) & (BATCH_WAYS - 1);
    if (this.batchSlot![way] === slot) this.publish(way);
  }

  private dropSlot(slot: number): void {
    const way = (slot >>> 4) & (BATCH_WAYS - 1);
    if (this.batchSlot![way] !== slot) return;
    this.batchSlot![way] = 0;
    this.batchCount![way] = 0;
    this.held--;
  }

  /** Holds back one success of `generation` on `slot`, publishing the batch when it is full. */
  private hold(slot: number, generation: number): void {
    const way = (slot >>> 4) & (BATCH_WAYS - 1);
    const slots = this.batchSlot!;
    if (slots[way] !== slot || this.batchGeneration![way] !== generation) {
      if (slots[way] !== 0) this.publish(way);
      slots[way] = slot;
      this.batchGeneration![way] = generation;
      this.held++;
      if (this.timer === undefined) this.arm();
    }
    if (++this.batchCount![way] >= this.successBatch) this.publish(way);
  }

  private publish(way: number): void {
    const slot = this.batchSlot![way];
    const count = this.batchCount![way];
    const generation = this.batchGeneration![way];
    this.batchSlot![way] = 0;
    this.batchCount![way] = 0;
    this.held--;
    // Until the word takes them: when it cannot, the core folds (or drops) what it holds and
    // changes no state; successes of a generation gone by count for nothing.
    while (!this.countSuccesses(slot, generation, count)) {
      if (this.u16[(slot + SLOT_GEN) >>> 1] !== generation) return;
      (this.unbatched ?? this.core).countDropping(slot, slot + 1, this.now());
    }
  }

  private arm(): void {
    const timer = setTimeout(() => {
      this.timer = undefined;
      this.publishAll();
    }, 1) as unknown as { unref?(): unknown };
    timer.unref?.();
    this.timer = timer;
  }

  override release(): void {
    throw new TypeError("breakerbox: a shared box cannot delete breakers (other threads may hold them)");
  }

  protected override nextSeed(): number {
    const made = Atomics.add(this.u32, BOX_SLOTS_MADE_OFFSET >>> 2, 1) + 1;
    return (this.seed ^ Math.imul(made, 0x9e3779b1)) >>> 0;
  }

  protected override slotsEnd(): number {
    const end = Atomics.load(this.u32, BOX_TOP_OFFSET >>> 2);
    this.reach(end);
    this.syncPolicies();
    return end;
  }

  protected override statsScratch(): number {
    if (this.scratch === 0) this.scratch = this.locked(() => this.allocateLocked(SCRATCH_POLICY));
    return this.scratch + SCRATCH_HEADER;
  }

  /** Views of a fixed length (see fixedView in src/engine-js/memory.ts), renewed after any growth. */
  protected override refreshViews(): void {
    const buffer = this.engine.buffer() as unknown as SharedArrayBuffer;
    const views = fixedView(buffer);
    this.buffer = buffer as unknown as ArrayBuffer;
    this.u8 = views.u8;
    this.u16 = views.u16;
    this.u32 = views.u32;
    this.f64 = views.f64;
  }

  /** Makes sure this thread's views reach `end` (another thread may have grown the memory). */
  reach(end: number): void {
    if (end > this.u8.length) this.refreshViews();
  }

  // ── Keys ─────────────────────────────────────────────────────────────────────────────────────

  /** How many keys the box holds. */
  get keyCount(): number {
    return Atomics.load(this.u32, BOX_KEY_COUNT_OFFSET >>> 2);
  }

  /** The slot of `key`, or 0 when no thread has made it. Lock-free: an entry is read only once its slot is published. */
  findKey(key: string): number {
    const u32 = this.u32;
    const hash = hashKey(key);
    const table = u32[BOX_KEYS_OFFSET >>> 2];
    const mask = u32[BOX_KEY_SLOTS_OFFSET >>> 2] - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = table + i * KEY_ENTRY_SIZE;
      const slot = Atomics.load(u32, (entry + KEY_SLOT) >>> 2);
      if (slot === 0) return 0;
      if (u32[(entry + KEY_HASH) >>> 2] === hash && u32[(entry + KEY_LENGTH) >>> 2] === key.length
        && this.keyIsAt(u32[(entry + KEY_AT) >>> 2], key)) {
        this.reach(slot + SLOT_ALIGN);
        this.reach(slot + this.slotSize(this.u8[slot + SLOT_POLICY]));
        return slot;
      }
    }
  }

  /**
   * The slot of `key`, made under policy record `index` if no thread has made it yet; `prepare`
   * runs on a new slot before any other thread can see it. Returns the slot, negated when new.
   */
  makeKey(key: string, index: number, prepare: (slot: number) => void): number {
    return this.locked(() => {
      const found = this.findKey(key);
      if (found !== 0) return found;
      const u32 = this.u32;
      const count = u32[BOX_KEY_COUNT_OFFSET >>> 2];
      const slots = u32[BOX_KEY_SLOTS_OFFSET >>> 2];
      const table = u32[BOX_KEYS_OFFSET >>> 2];
      // maxKeys is not stored: the arena was sized from it.
      const maxKeys = (u32[BOX_ARENA_END_OFFSET >>> 2] - table - slots * KEY_ENTRY_SIZE) / KEY_BYTES_PER_KEY;
      if (count >= maxKeys) {
        throw new RangeError(`breakerbox: a shared box holds at most ${maxKeys} keys (maxKeys); it is full`);
      }
      const at = u32[BOX_ARENA_TOP_OFFSET >>> 2];
      if (at + key.length * 2 > u32[BOX_ARENA_END_OFFSET >>> 2]) {
        throw new RangeError(`breakerbox: a shared box's key arena is full (${KEY_BYTES_PER_KEY} bytes per key of maxKeys); use shorter keys or a larger maxKeys`);
      }
      const slot = this.allocateLocked(index);
      prepare(slot);
      for (let i = 0; i < key.length; i++) this.u16[(at >>> 1) + i] = key.charCodeAt(i);
      u32[BOX_ARENA_TOP_OFFSET >>> 2] = at + key.length * 2;
      const hash = hashKey(key);
      let entry = 0;
      for (let i = hash & (slots - 1); ; i = (i + 1) & (slots - 1)) {
        entry = table + i * KEY_ENTRY_SIZE;
        if (Atomics.load(u32, (entry + KEY_SLOT) >>> 2) === 0) break;
      }
      u32[(entry + KEY_HASH) >>> 2] = hash;
      u32[(entry + KEY_AT) >>> 2] = at;
      u32[(entry + KEY_LENGTH) >>> 2] = key.length;
      Atomics.store(u32, (entry + KEY_SLOT) >>> 2, slot); // published: readers see a whole entry
      Atomics.store(u32, BOX_KEY_COUNT_OFFSET >>> 2, count + 1);
      return -slot;
    });
  }

  private keyIsAt(at: number, key: string): boolean {
    const u16 = this.u16;
    for (let i = 0; i < key.length; i++) if (u16[(at >>> 1) + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  private keyAt(at: number, length: number): string {
    let key = "";
    for (let i = 0; i < length; i++) key += String.fromCharCode(this.u16[(at >>> 1) + i]);
    return key;
  }

  /** Every key with its slot, in table order. */
  *entries(): Generator<[string, number]> {
    const u32 = this.u32;
    const table = u32[BOX_KEYS_OFFSET >>> 2];
    const slots = u32[BOX_KEY_SLOTS_OFFSET >>> 2];
    for (let i = 0; i < slots; i++) {
      const entry = table + i * KEY_ENTRY_SIZE;
      const slot = Atomics.load(u32, (entry + KEY_SLOT) >>> 2);
      if (slot !== 0) yield [this.keyAt(u32[(entry + KEY_AT) >>> 2], u32[(entry + KEY_LENGTH) >>> 2]), slot];
    }
  }
}
