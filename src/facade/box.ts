// Many keyed breakers sharing one store: a gateway's breaker per route or upstream. A box is a
// key map, a store and an engine, handed to it (`BoxParts`): the same class serves a box of one
// thread and a box shared by threads (./shared-box.ts), which differ only in those parts.

import type { EngineName, SlotStats } from "../core/types.js";
import { statsSlot, takeChangedStats, WATCHED_STATS } from "../core/views.js";
import { createLocalStore } from "../store/local-space.js";
import { statsAt, sweepStats } from "../store/slot-io.js";
import { MAX_BYTES } from "../store/store.js";
import { Breaker } from "./breaker.js";
import { checkInteger } from "./check.js";
import { checkBreakerOptions, checkPolicy } from "./check-options.js";
import { type Classify, checkClassify, withoutClassify } from "./classify.js";
import { BoxContext } from "./context.js";
import type { CallContext, DoOptions } from "./do.js";
import type { BoxListener } from "./events.js";
import { type Keys, LocalKeys } from "./keys.js";
import type { BreakerOptions, PolicyOptions } from "./options.js";
import {
  type BreakerSnapshot,
  restoreSnapshot,
  snapshotBytes,
  takeInitialState,
} from "./snapshot.js";
import {
  type BreakerTotals,
  T_EXCLUSIONS,
  T_FAILURES,
  T_REJECTIONS,
  T_STRIDE,
  T_SUCCESSES,
  T_TIMEOUTS,
  totalsAt,
} from "./totals.js";

/**
 * Options of one key's breaker (`box.get(key, options)`): a policy, or `initialState` (a snapshot
 * from `breaker.toJSON()`) with, if you like, policy options that agree with its policy; and its
 * own classifiers (`isFailure`, `isExcluded`, `isFailureResult`) in place of the box's.
 */
export type KeyOptions = PolicyOptions & Classify & { initialState?: BreakerSnapshot };

/** One breaker's line in `box.stats()`. */
export interface KeyedStats extends SlotStats {
  key: string;
  /** The last failure reasons, oldest first. */
  reasons: string[];
  /** Lifetime totals, once the box counts them (`countTotals()`; a shared box: this thread's). */
  totals?: BreakerTotals;
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

/** What a box is made of: its breakers' context, its default policy record, its keys. */
export class BoxParts {
  constructor(
    readonly context: BoxContext,
    readonly defaultPolicy: number,
    readonly keys: Keys,
    /** This thread's ordinal of each key it has met (the keys' map of a box of one thread). */
    readonly ordinals: Map<string, number>,
  ) {}
}

/** Handles a box keeps for reuse, at most (a direct-mapped cache by ordinal). */
const HANDLE_CACHE = 16384;

/** The parts of a box of one thread, from its options. */
function localParts(options: BreakerBoxOptions | undefined): BoxParts {
  const isObject = typeof options === "object" && options !== null && !Array.isArray(options);
  const { maxKeys, maxBytes, shared, ...rest } = (isObject ? options : {}) as BreakerBoxOptions;
  if (shared) throw new TypeError("shared: true needs SharedBreakerBox from 'breakerbox/shared'");
  const checked = checkBreakerOptions("BreakerBox options", isObject ? rest : options);
  const limit =
    maxKeys === undefined ? Number.POSITIVE_INFINITY : checkInteger("maxKeys", maxKeys, 1, 2 ** 32);
  const bytes =
    maxBytes === undefined ? MAX_BYTES : checkInteger("maxBytes", maxBytes, 65536, MAX_BYTES);
  const store = createLocalStore(checked.engine, checked.now, checked.seed, 64 * 1024, bytes);
  const ordinals = new Map<string, number>();
  const context = new BoxContext(store, checked.onDrop, checked.dropReportMs, checked.timeoutMs);
  context.classifyAll(checked.classify);
  const keys = new LocalKeys(store, context, ordinals, limit);
  const defaultPolicy = store.policy(checked.policy);
  store.policies.pin(defaultPolicy);
  return new BoxParts(context, defaultPolicy, keys, ordinals);
}

export class BreakerBox {
  readonly #context: BoxContext;
  readonly #defaultPolicy: number;
  readonly #keys: Keys;
  readonly #ordinals: Map<string, number>;
  /**
   * Handles handed out, for reuse: a direct-mapped cache by ordinal, with the ordinal and tenancy
   * each was made for. A breaker needs no handle to exist (its state is in the store and the
   * context), so the cache is bounded and grows with the box up to HANDLE_CACHE.
   */
  #handles: (Breaker | undefined)[] = new Array(16);
  #handleOrdinals = new Int32Array(16).fill(-1);
  #handleTenancy = new Uint32Array(16);

  constructor(options?: BreakerBoxOptions);
  /** @internal A box of the given parts (SharedBreakerBox). */
  constructor(parts: BoxParts);
  constructor(options?: BreakerBoxOptions | BoxParts) {
    const parts = options instanceof BoxParts ? options : localParts(options);
    this.#context = parts.context;
    this.#defaultPolicy = parts.defaultPolicy;
    this.#keys = parts.keys;
    this.#ordinals = parts.ordinals;
  }

  /** Which engine runs the box: 'wasm' or 'js'. */
  get engine(): EngineName {
    return this.#context.store.engineName;
  }

  /** Number of breakers in the box (a shared box: made by any thread). */
  get size(): number {
    return this.#keys.size;
  }

  /** The box's `timeoutMs` option (the default of `do()` and the tokens' lease), if it has one. */
  get timeoutMs(): number | undefined {
    return this.#context.timeoutMs;
  }

  /**
   * Tokens from `tryAcquire()` issued and not yet settled, and tokens reclaimed unsettled because
   * the permit table was full of outstanding ones (see the README, "Limits and odd input").
   */
  get tokens(): { outstanding: number; expired: number } {
    const permits = this.#context.permits;
    return { outstanding: permits.outstanding, expired: permits.expired };
  }

  /** Bytes of core memory in use: header, policy table and every slot. */
  get bytesUsed(): number {
    return this.#context.store.bytesUsed;
  }

  /**
   * The breaker for `key`, created on first use (a shared box: the one any thread made).
   * `options` (either policy, or `{ initialState }` from `breaker.toJSON()`) apply to a new
   * breaker and are ignored for an existing one. Any string is an ordinary key.
   */
  get(key: string, options?: KeyOptions): Breaker {
    const ordinal = this.#ordinals.get(key);
    if (ordinal !== undefined) {
      this.#context.marks[ordinal] = 1; // used: a second chance from eviction
      return this.#handle(ordinal);
    }
    if (typeof key !== "string") throw new TypeError(`key must be a string, got ${typeof key}`);
    return this.#handle(this.#make(key, options));
  }

  /** A handle on breaker `ordinal`: the cached one while it is still that breaker's, or a new one. */
  #handle(ordinal: number): Breaker {
    const context = this.#context;
    const at = ordinal & (this.#handleOrdinals.length - 1);
    const cached = this.#handles[at];
    if (
      cached !== undefined &&
      this.#handleOrdinals[at] === ordinal &&
      this.#handleTenancy[at] === context.tenancy[ordinal]
    ) {
      return cached;
    }
    const handle = new Breaker(context, ordinal);
    this.#handles[at] = handle;
    this.#handleOrdinals[at] = ordinal;
    this.#handleTenancy[at] = context.tenancy[ordinal];
    return handle;
  }

  /** The ordinal of a breaker for `key`, made now (a shared box: or found, made by another thread). */
  #make(key: string, options: KeyOptions | undefined): number {
    const store = this.#context.store;
    let ordinal = this.#keys.find(key);
    if (ordinal < 0) {
      // Everything that can throw on bad options does so before the key map changes.
      const initial = takeInitialState("breaker options", options);
      const classify = checkClassify(initial.rest);
      const policyOptions = classify === undefined ? initial.rest : withoutClassify(initial.rest);
      const policy =
        initial.policy !== undefined
          ? store.policy(initial.policy)
          : policyOptions === undefined
            ? this.#defaultPolicy
            : store.policy(checkPolicy("breaker options", policyOptions));
      const snapshot = initial.snapshot;
      const bytes = snapshot && snapshotBytes(store, policy, snapshot); // checked before any slot is made
      const prepare = (fresh: number) => {
        if (snapshot !== undefined && bytes) restoreSnapshot(store, fresh, bytes, snapshot.savedAt);
      };
      ordinal = this.#keys.make(key, policy, prepare, snapshot?.reasons);
      this.#context.classifyOne(ordinal, classify);
    }
    const size = this.#handleOrdinals.length;
    if (this.#context.count > size && size < HANDLE_CACHE) {
      const grown = Math.min(HANDLE_CACHE, Math.max(16, size * 4));
      this.#handles = new Array(grown);
      this.#handleOrdinals = new Int32Array(grown).fill(-1);
      this.#handleTenancy = new Uint32Array(grown);
    }
    return ordinal;
  }

  /** Whether a breaker exists for `key` (a shared box: made by any thread). */
  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /**
   * Removes the breaker for `key` and frees its slot for reuse. Permits it issued settle nothing,
   * and a later `get(key)` starts afresh. The removed Breaker object must not be used again.
   * A shared box cannot delete breakers (another thread may be using one): it throws a TypeError.
   */
  delete(key: string): boolean {
    return this.#keys.delete(key);
  }

  /**
   * How many of the box's breakers would drop the next call now (drop probability above 0).
   * One sweep of the core over all of them, which also brings every window up to date.
   */
  dropping(): number {
    return this.#context.store.countDropping();
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
   * exporters use it at scrape time. `visit` must not create or delete breakers. Failure reasons
   * are this thread's.
   */
  forEachStats(visit: (key: string, stats: Omit<KeyedStats, "key">) => void): void {
    const bySlot = this.#keys.bySlot();
    const context = this.#context;
    const store = context.store;
    sweepStats(store, (records, count) => {
      for (let i = 0; i < count; i++) {
        const entry = bySlot.get(statsSlot(records, i));
        if (entry === undefined) continue; // made since the key map was built
        this.#visitStats(entry, records, i, visit);
      }
    });
  }

  /**
   * A cursor over the box's stats for live views (breakerbox/dashboard): each `poll(visit)` is
   * one sweep of the core, and visits only the breakers whose figures (state, counts, drop ratio,
   * last change) moved since the cursor's previous poll; the first poll visits every breaker.
   * Comparing is done on the sweep's numbers, so an unchanged breaker costs no object. Returns
   * how many breakers the sweep saw.
   */
  watchStats(): {
    poll(visit: (key: string, stats: Omit<KeyedStats, "key">) => void): number;
  } {
    // The last figures by a record's place in the sweep, with the slot and the tenant (ordinal's
    // tenancy + 1, or 1 in a shared box) they were of. While the box's keys have not changed
    // (the same bySlot map), place j is the same slot as last time, and an unchanged breaker
    // costs one comparison of numbers: no map lookup, no object.
    let last = new Float64Array(1024 * WATCHED_STATS);
    let slots = new Float64Array(1024);
    let tenants = new Uint32Array(1024);
    let lastBySlot: unknown;
    return {
      poll: (visit) => {
        const bySlot = this.#keys.bySlot();
        const same = bySlot === lastBySlot;
        lastBySlot = bySlot;
        const context = this.#context;
        const store = context.store;
        let swept = 0;
        sweepStats(store, (records, count) => {
          const offset = swept;
          swept += count;
          for (let i = 0; i < count; i++) {
            const place = offset + i;
            if (place >= slots.length) {
              const grow = <T extends Float64Array | Uint32Array>(a: T, n: number): T => {
                const b = new (a.constructor as new (n: number) => T)(n);
                b.set(a);
                return b;
              };
              last = grow(last, slots.length * 2 * WATCHED_STATS);
              slots = grow(slots, slots.length * 2);
              tenants = grow(tenants, tenants.length * 2);
            }
            const slot = statsSlot(records, i);
            let entry: number | string | undefined;
            if (!same || slots[place] !== slot) {
              entry = bySlot.get(slot);
              if (entry === undefined) continue;
              const tenant = typeof entry === "number" ? context.tenancy[entry] + 1 : 1;
              if (slots[place] !== slot || tenants[place] !== tenant) {
                slots[place] = slot;
                tenants[place] = tenant;
                last.fill(Number.NaN, place * WATCHED_STATS, (place + 1) * WATCHED_STATS);
              }
            }
            if (!takeChangedStats(records, i, last, place * WATCHED_STATS)) continue;
            entry ??= bySlot.get(slot);
            if (entry !== undefined) this.#visitStats(entry, records, i, visit);
          }
        });
        return swept;
      },
    };
  }

  /**
   * `visit(key, totals)` for each breaker of the box that this thread knows, with its lifetime
   * totals (`countTotals()` first; before, nothing is visited). No sweep of the core: a walk of
   * the box's own table, cheap enough to run every 100 ms over 100,000 breakers (breakerbox/redis
   * does). The totals object is reused between visits: copy what you keep.
   */
  forEachTotals(visit: (key: string, totals: Readonly<BreakerTotals>) => void): void {
    const context = this.#context;
    const totals = context.totals;
    if (totals === undefined) return;
    const one: BreakerTotals = {
      successes: 0,
      failures: 0,
      exclusions: 0,
      rejections: 0,
      timeouts: 0,
    };
    for (let ordinal = 0; ordinal < context.count; ordinal++) {
      const key = context.keys[ordinal];
      if (key === undefined || context.slots[ordinal] === 0) continue;
      const at = ordinal * T_STRIDE;
      one.successes = totals[at + T_SUCCESSES];
      one.failures = totals[at + T_FAILURES];
      one.exclusions = totals[at + T_EXCLUSIONS];
      one.rejections = totals[at + T_REJECTIONS];
      one.timeouts = totals[at + T_TIMEOUTS];
      visit(key, one);
    }
  }

  /**
   * `visit(key, stats)` for record `i` of a sweep's chunk, whose slot maps to `entry`: a local box
   * maps a slot to its ordinal, a shared box to its key (this thread may have met it or not).
   */
  #visitStats(
    entry: number | string,
    records: Float64Array,
    i: number,
    visit: (key: string, stats: Omit<KeyedStats, "key">) => void,
  ): void {
    const context = this.#context;
    const ordinal = typeof entry === "number" ? entry : this.#ordinals.get(entry);
    const key = typeof entry === "number" ? (context.keys[entry] as string) : entry;
    const extra = ordinal === undefined ? undefined : context.extras.get(ordinal);
    const stats = statsAt(context.store, records, i) as Omit<KeyedStats, "key">;
    stats.reasons = extra?.recentReasons() ?? [];
    const totals = context.totals;
    if (totals !== undefined && ordinal !== undefined) stats.totals = totalsAt(totals, ordinal);
    visit(key, stats);
  }

  /** The keys: in creation order, or for a shared box every thread's, in key-table order. */
  keys(): IterableIterator<string> {
    return this.#keys.keys();
  }

  /** `get(key).do(fn, options)`. */
  do<R>(key: string, fn: (call: CallContext) => R, options?: DoOptions<R>): R {
    return this.get(key).do(fn, options);
  }

  /**
   * Starts counting every breaker's lifetime totals (successes, failures, exclusions, rejections,
   * timeouts), from zero, shown by `stats()` and `forEachStats()` as `totals` and exported as
   * counters by breakerbox/prometheus and breakerbox/otel (which call this). Until then the calls
   * pay nothing for them. A shared box counts each thread's own calls. Idempotent.
   */
  countTotals(): void {
    this.#context.countTotals();
  }

  /**
   * Subscribes to every breaker's state changes, with its key: a three-state breaker's
   * transitions (as the state machine makes them) and manual modes, an adaptive breaker's start
   * and end of shedding ('closed' → 'open' → 'closed'). Breakers made later, deleted or made
   * again are covered alike. Returns the function that unsubscribes. Costs nothing while nobody
   * listens. A shared box tells each thread of the changes its own calls made.
   */
  onStateChange(listener: BoxListener): () => void {
    if (typeof listener !== "function") {
      throw new TypeError(`listener must be a function, got ${typeof listener}`);
    }
    const context = this.#context;
    context.stateListeners ??= [];
    context.stateListeners.push(listener);
    return () => {
      const listeners = context.stateListeners;
      const at = listeners?.indexOf(listener) ?? -1;
      if (at < 0) return;
      listeners?.splice(at, 1);
      if (listeners?.length === 0) context.stateListeners = undefined;
    };
  }
}
