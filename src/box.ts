// Many keyed breakers sharing one memory: a gateway's breaker per route or upstream.

import { BoxMemory, MAX_BYTES, type SlotStats } from "./box-memory.js";
import { attachBreaker, Breaker, type DoOptions } from "./breaker.js";
import {
  SLOTS_OFFSET, STATS_RECORD_SIZE, STATS_SLOT,
} from "./core/layout.js";
import type { EngineName } from "./engine.js";
import { takeInitialState, type BreakerSnapshot } from "./snapshot.js";
import { checkBreakerOptions, checkInteger, checkPolicy, type BreakerOptions, type PolicyOptions } from "./options.js";

/** One breaker's line in `box.stats()`. */
export interface KeyedStats extends SlotStats {
  key: string;
  /** The last failure reasons, oldest first. */
  reasons: string[];
}

/** Options for a box: the default policy of its breakers, the clock, seed and engine they share, and its limits. */
export type BreakerBoxOptions = BreakerOptions & {
  /**
   * The most breakers the box holds. Creating one more first evicts the least recently used:
   * breakers are kept in creation order, and one used (through `get` or any call) since the last
   * eviction gets a second chance at the end of the line. An evicted breaker is deleted, as by
   * `delete(key)`. An integer ≥ 1; default: no limit.
   */
  maxKeys?: number;
  /** The most memory the box may take, bytes ≥ 65536. Default 4 GiB (wasm32's reach). */
  maxBytes?: number;
  /**
   * One box for every thread: use `SharedBreakerBox` from 'breakerbox/shared', which takes this
   * option; `BreakerBox` itself throws a TypeError that says so.
   */
  shared?: boolean;
};

/** @internal Set by SharedBreakerBox just before it calls BreakerBox's constructor: the memory to run on. */
let given: { memory: BoxMemory; defaultPolicy: number } | undefined;

/** @internal Called in a subclass's `super(…)` arguments: the BreakerBox constructor then runs on `memory`. */
export function onMemory(memory: BoxMemory, defaultPolicy: number): undefined {
  given = { memory, defaultPolicy };
  return undefined;
}

export class BreakerBox {
  readonly #memory: BoxMemory;
  readonly #defaultPolicy: number;
  readonly #breakers = new Map<string, Breaker>();
  /** The same breakers by slot address, for sweeps: built by the first sweep, dropped on any change. */
  #bySlot: Map<number, Breaker> | undefined;

  readonly #maxKeys!: number; // unset on a subclass's memory (onMemory): SharedBreakerBox keeps its own keys
  /** With maxKeys: the CLOCK of breakers (their places), its hand, and the free places. */
  readonly #clock: (Breaker | null)[] = [];
  #hand = 0;
  readonly #holes: number[] = [];

  constructor(options?: BreakerBoxOptions) {
    if (given !== undefined) {
      this.#memory = given.memory;
      this.#defaultPolicy = given.defaultPolicy;
      given = undefined;
      return;
    }
    const isObject = typeof options === "object" && options !== null && !Array.isArray(options);
    const { maxKeys, maxBytes, shared, ...rest } = (isObject ? options : {}) as BreakerBoxOptions;
    if (shared) {
      throw new TypeError("shared: true needs SharedBreakerBox from 'breakerbox/shared'");
    }
    const checked = checkBreakerOptions("BreakerBox options", isObject ? rest : options);
    this.#maxKeys = maxKeys === undefined ? Infinity : checkInteger("maxKeys", maxKeys, 1, 2 ** 32);
    const limit = maxBytes === undefined ? MAX_BYTES : checkInteger("maxBytes", maxBytes, 65536, MAX_BYTES);
    this.#memory = new BoxMemory(checked.engine, checked.now, checked.seed, Math.min(64 * 1024, limit - SLOTS_OFFSET));
    this.#memory.maxBytes = limit;
    this.#memory.onDrop = checked.onDrop;
    this.#memory.dropReportMs = checked.dropReportMs;
    this.#defaultPolicy = this.#memory.policy(checked.policy);
  }

  /** Which engine runs the box: 'wasm' or 'js'. */
  get engine(): EngineName {
    return this.#memory.engineName;
  }

  /** Number of breakers in the box. */
  get size(): number {
    return this.#breakers.size;
  }

  /** Bytes of core memory in use: header, policy table, settlement ring and every slot. */
  get bytesUsed(): number {
    return this.#memory.bytesUsed;
  }

  /**
   * The breaker for `key`, created on first use. `options` (either policy, or `{ initialState }`
   * from `breaker.toJSON()`) apply to a new breaker and are ignored for an existing one. Any
   * string is an ordinary key.
   */
  get(key: string, options?: PolicyOptions | { initialState: BreakerSnapshot }): Breaker {
    const existing = this.#breakers.get(key);
    if (existing !== undefined) {
      Breaker.touch(existing);
      return existing;
    }
    if (typeof key !== "string") throw new TypeError(`key must be a string, got ${typeof key}`);
    const initial = takeInitialState("breaker options", options);
    const position = this.#maxKeys === Infinity ? -1 : this.#place();
    const policy = initial.policy !== undefined ? this.#memory.policy(initial.policy)
      : options === undefined ? this.#defaultPolicy
      : this.#memory.policy(checkPolicy("breaker options", options));
    const slot = this.#memory.allocate(policy);
    const breaker = attachBreaker(this.#memory, slot, key, initial.snapshot);
    this.#breakers.set(key, breaker);
    this.#bySlot = undefined;
    if (position >= 0) {
      this.#clock[position] = breaker;
      Breaker.setPosition(breaker, position);
    }
    return breaker;
  }

  /** Whether a breaker exists for `key`. */
  has(key: string): boolean {
    return this.#breakers.has(key);
  }

  /**
   * A place on the clock for a new breaker of a box with maxKeys: a free one, or the place of the
   * breaker it evicts. The hand sweeps the clock; a breaker used since it last passed gets a second
   * chance (its mark is cleared), the first one unused since is evicted (CLOCK, an LRU estimate).
   */
  #place(): number {
    if (this.#holes.length > 0) return this.#holes.pop()!;
    const clock = this.#clock;
    if (clock.length < this.#maxKeys) {
      clock.push(null);
      return clock.length - 1;
    }
    for (;;) {
      const at = this.#hand;
      this.#hand = at + 1 === clock.length ? 0 : at + 1;
      const breaker = clock[at]!;
      if (!Breaker.used(breaker)) {
        this.delete(breaker.key!);
        return this.#holes.pop()!; // the place delete() just freed
      }
    }
  }

  /**
   * Removes the breaker for `key` and frees its slot for reuse. Permits it issued settle nothing,
   * and a later `get(key)` starts afresh. The removed Breaker object must not be used again.
   */
  delete(key: string): boolean {
    const breaker = this.#breakers.get(key);
    if (breaker === undefined) return false;
    this.#breakers.delete(key);
    Breaker.release(breaker);
    const position = Breaker.positionOf(breaker);
    if (position >= 0) {
      this.#clock[position] = null;
      this.#holes.push(position);
    }
    this.#bySlot = undefined;
    this.#memory.release(Breaker.slotOf(breaker));
    return true;
  }

  /**
   * How many of the box's breakers would drop the next call now (drop probability above 0).
   * One sweep of the core over all of them, which also brings every window up to date.
   */
  dropping(): number {
    return this.#memory.countDropping();
  }

  /**
   * A snapshot of every breaker: one sweep of the core over all of them (which brings every
   * window up to date and makes no state change), turned into one object per breaker.
   */
  stats(): KeyedStats[] {
    const out: KeyedStats[] = [];
    this.forEachStats((key, record) => out.push({ key, ...record }));
    return out;
  }

  /**
   * The sweep behind `stats()`, without the array: `visit(key, stats)` for each breaker. The
   * exporters use it at scrape time. `visit` must not create or delete breakers.
   */
  forEachStats(visit: (key: string, stats: Omit<KeyedStats, "key">) => void): void {
    let bySlot = this.#bySlot;
    if (bySlot === undefined) {
      bySlot = new Map();
      for (const breaker of this.#breakers.values()) bySlot.set(Breaker.slotOf(breaker), breaker);
      this.#bySlot = bySlot;
    }
    const memory = this.#memory;
    memory.sweepStats((records, count) => {
      for (let i = 0; i < count; i++) {
        const breaker = bySlot.get(records[(i * STATS_RECORD_SIZE + STATS_SLOT) / 8]);
        if (breaker === undefined) continue;
        const stats = memory.readStats(records, i) as Omit<KeyedStats, "key">;
        stats.reasons = breaker.recentReasons();
        visit(breaker.key!, stats);
      }
    });
  }

  /** The keys, in creation order. */
  keys(): IterableIterator<string> {
    return this.#breakers.keys();
  }

  /** `get(key).do(fn, options)`. */
  do<R>(key: string, fn: () => R, options?: DoOptions<R>): R {
    return this.get(key).do(fn, options);
  }
}
