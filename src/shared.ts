// `breakerbox/shared`: one breaker box for every thread (Node worker_threads, Web Workers).
//
//   main thread                                   worker
//   const box = new SharedBreakerBox(options)      const box = SharedBreakerBox.attach(workerData.box)
//   new Worker(url, { workerData: { box: box.share() } })
//
// Every thread sees the same breakers: a key made in one names the same slot in all, a failure
// counted in one moves the window for all, and a transition has exactly one winner, whose thread
// fires the events. What stays per thread: the Breaker objects and their listeners, failure
// reasons, drop reports and the clock.

import { attachBreaker, type Breaker } from "./breaker.js";
import { BreakerBox, onMemory, type BreakerBoxOptions, type KeyedStats } from "./box.js";
import { MAX_BYTES } from "./box-memory.js";
import { STATS_RECORD_SIZE, STATS_SLOT } from "./core/layout.js";
import { checkBreakerOptions, checkInteger, checkObject, checkPolicy, type DropReport, type PolicyOptions } from "./options.js";
import { SharedBoxMemory, sharedMemoryAvailable, type ShareHandle } from "./shared-memory.js";
import { restoreSnapshot, takeInitialState, type BreakerSnapshot } from "./snapshot.js";

export { sharedMemoryAvailable, type ShareHandle };

/** Options of a shared box: those of a BreakerBox, where `maxKeys` is the size of the shared key table. */
export type SharedBreakerBoxOptions = Omit<BreakerBoxOptions, "maxKeys" | "shared"> & {
  /** Accepted for symmetry with `BreakerBox`; a SharedBreakerBox is always shared. */
  shared?: true;
  /**
   * How many keys the box can ever hold (keys are never deleted from a shared box), an integer in
   * [1, 2^24]. Sizes the key table (2 entries of 16 B per key, a power of two) and the key arena
   * (64 B per key, keys stored as UTF-16). Default 16384 (1.5 MiB).
   */
  maxKeys?: number;
  /**
   * Successes on an adaptive breaker this thread may hold back before publishing them to the
   * other threads in one atomic add, an integer in [1, 65535]. Default 1: every success is
   * published at once. Above 1, threads sharing a breaker stop contending for it on every call;
   * other threads see this thread's successes up to `successBatch − 1` per breaker (or about a
   * millisecond) late, and a thread that ends without `flush()` loses the ones it holds. See the
   * README, "Batched successes".
   */
  successBatch?: number;
};

/** What a thread that attaches sets for itself: its clock and its drop reports. */
export interface AttachOptions {
  /** This thread's clock (ms since the Unix epoch, as every thread's must be). Default: the amortised wall clock. */
  now?: () => number;
  onDrop?: (report: DropReport) => void;
  dropReportMs?: number;
  /** This thread's batch of successes (see SharedBreakerBoxOptions.successBatch). Default 1. */
  successBatch?: number;
}

const DEFAULT_MAX_KEYS = 16384;
const ATTACH_KEYS = new Set(["now", "onDrop", "dropReportMs", "successBatch"]);

/**
 * A BreakerBox whose breakers are shared by threads: create it in one, `share()` it, and
 * `SharedBreakerBox.attach(handle)` in each other. Breakers cannot be deleted; the key table holds
 * at most `maxKeys` keys. See the README, "Sharing a box between threads".
 */
export class SharedBreakerBox extends BreakerBox {
  readonly #memory: SharedBoxMemory;
  readonly #defaultPolicy: number;
  /** This thread's Breaker objects, by key. */
  readonly #breakers = new Map<string, Breaker>();
  /** Key by slot for stats, rebuilt when the key count changes. */
  #keyBySlot: Map<number, string> | undefined;
  #keyBySlotCount = -1;

  constructor(options?: SharedBreakerBoxOptions) {
    const made = attaching ?? create(options);
    super(onMemory(made.memory, made.defaultPolicy));
    this.#memory = made.memory;
    this.#defaultPolicy = made.defaultPolicy;
  }

  /**
   * This box in another thread: `handle` comes from `box.share()` (posted through `postMessage`
   * or `workerData`). The handle's memory is shared, not copied.
   */
  static attach(handle: ShareHandle, options?: AttachOptions): SharedBreakerBox {
    const h = handle as Partial<ShareHandle> | null;
    if (typeof h !== "object" || h === null || h.type !== "breakerbox/shared" || (h.engine !== "wasm" && h.engine !== "js")
      || typeof h.defaultPolicy !== "number") {
      throw new TypeError("breakerbox: SharedBreakerBox.attach takes what box.share() returned");
    }
    if (h.version !== 2) throw new TypeError(`breakerbox: the handle is of memory layout ${String(h.version)}, this breakerbox reads layout 2`);
    const { successBatch, ...checked } = checkObject("attach options", options ?? {}, ATTACH_KEYS);
    const { now, onDrop, dropReportMs } = checkBreakerOptions("attach options", checked);
    const batch = successBatch === undefined ? 1 : checkInteger("successBatch", successBatch, 1, 65535);
    const memory = SharedBoxMemory.attach(handle, now);
    memory.onDrop = onDrop;
    memory.dropReportMs = dropReportMs;
    memory.batchSuccesses(batch);
    attaching = { memory, defaultPolicy: handle.defaultPolicy };
    try {
      return new SharedBreakerBox();
    } finally {
      attaching = undefined;
    }
  }

  /**
   * Publishes the successes this thread holds back (with `successBatch` above 1) to the other
   * threads now. Call it before a worker ends; with the default batch of 1 there is nothing to do.
   */
  flush(): void {
    this.#memory.publishAll();
  }

  /** A handle to post to another thread, which passes it to `SharedBreakerBox.attach`. */
  share(): ShareHandle {
    return this.#memory.handle(this.#defaultPolicy);
  }

  /** Number of breakers in the box, made by any thread. */
  override get size(): number {
    return this.#memory.keyCount;
  }

  /**
   * The breaker for `key`: the one any thread made, or a new one. `options` apply only when this
   * call makes it (as for BreakerBox), and are then checked.
   */
  override get(key: string, options?: PolicyOptions | { initialState: BreakerSnapshot }): Breaker {
    const existing = this.#breakers.get(key);
    if (existing !== undefined) return existing;
    if (typeof key !== "string") throw new TypeError(`key must be a string, got ${typeof key}`);
    const memory = this.#memory;
    let slot = memory.findKey(key);
    let reasons: readonly unknown[] = [];
    if (slot === 0) {
      const initial = takeInitialState("breaker options", options);
      const policy = initial.policy !== undefined ? memory.policy(initial.policy)
        : options === undefined ? this.#defaultPolicy
        : memory.policy(checkPolicy("breaker options", options));
      const snapshot = initial.snapshot;
      const made = memory.makeKey(key, policy, (fresh) => {
        if (snapshot !== undefined) restoreSnapshot(memory, fresh, snapshot);
      });
      slot = Math.abs(made);
      if (made < 0 && snapshot !== undefined) reasons = snapshot.reasons;
    }
    memory.syncPolicies(); // the slot may run a policy another thread added
    const breaker = attachBreaker(memory, slot, key);
    for (const reason of reasons) breaker.remember(String(reason));
    this.#breakers.set(key, breaker);
    return breaker;
  }

  /** Whether any thread has made a breaker for `key`. */
  override has(key: string): boolean {
    return this.#breakers.has(key) || (typeof key === "string" && this.#memory.findKey(key) !== 0);
  }

  /** A shared box cannot delete breakers (another thread may be using one): this throws a TypeError. */
  override delete(key: string): boolean {
    throw new TypeError(`breakerbox: a shared box cannot delete breakers (asked to delete ${JSON.stringify(key)})`);
  }

  /** Every thread's keys, in the key table's order. */
  override *keys(): IterableIterator<string> {
    for (const [key] of this.#memory.entries()) yield key;
  }

  /** As BreakerBox's, over every thread's breakers; failure reasons are this thread's. */
  override forEachStats(visit: (key: string, stats: Omit<KeyedStats, "key">) => void): void {
    const memory = this.#memory;
    if (this.#keyBySlot === undefined || this.#keyBySlotCount !== memory.keyCount) {
      this.#keyBySlotCount = memory.keyCount;
      const bySlot = new Map<number, string>();
      for (const [key, slot] of memory.entries()) bySlot.set(slot, key);
      this.#keyBySlot = bySlot;
    }
    const bySlot = this.#keyBySlot;
    memory.sweepStats((records, count) => {
      for (let i = 0; i < count; i++) {
        const key = bySlot.get(records[(i * STATS_RECORD_SIZE + STATS_SLOT) / 8]);
        if (key === undefined) continue; // made since the key map was built
        const stats = memory.readStats(records, i) as Omit<KeyedStats, "key">;
        stats.reasons = this.#breakers.get(key)?.recentReasons() ?? [];
        visit(key, stats);
      }
    });
  }
}

/** Set by `attach` just before it constructs a box on an attached memory. */
let attaching: { memory: SharedBoxMemory; defaultPolicy: number } | undefined;

function create(options: SharedBreakerBoxOptions | undefined): { memory: SharedBoxMemory; defaultPolicy: number } {
  const isObject = typeof options === "object" && options !== null && !Array.isArray(options);
  const { maxKeys, maxBytes, shared, successBatch, ...rest } = (isObject ? options : {}) as SharedBreakerBoxOptions;
  if (shared !== undefined && shared !== true) {
    throw new TypeError(`shared must be true for a SharedBreakerBox (or left out), got ${JSON.stringify(shared)}`);
  }
  const checked = checkBreakerOptions("SharedBreakerBox options", isObject ? rest : options);
  const keys = maxKeys === undefined ? DEFAULT_MAX_KEYS : checkInteger("maxKeys", maxKeys, 1, 2 ** 24);
  const limit = maxBytes === undefined ? MAX_BYTES : checkInteger("maxBytes", maxBytes, 65536, MAX_BYTES);
  const batch = successBatch === undefined ? 1 : checkInteger("successBatch", successBatch, 1, 65535);
  const memory = SharedBoxMemory.create(checked.engine, checked.now, checked.seed, limit, keys);
  memory.batchSuccesses(batch);
  memory.onDrop = checked.onDrop;
  memory.dropReportMs = checked.dropReportMs;
  return { memory, defaultPolicy: memory.policy(checked.policy) };
}
