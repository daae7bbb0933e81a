// Where a box's keys live. A box of one thread keeps them in a Map (with an optional key limit
// and CLOCK eviction); a shared box keeps them in the key table in its shared memory, so every
// thread finds the same slot for a key. Either way the box keeps this thread's Breaker objects.

import { findKey, keyCount, keyEntries, makeKey } from "../store/key-table.js";
import type { SharedSpace } from "../store/shared-space.js";
import type { Store } from "../store/store.js";
import type { Breaker } from "./breaker.js";
import { internals } from "./internals.js";

export interface Keys {
  /** Number of keys (for a shared box: made by any thread). */
  readonly size: number;
  has(key: string): boolean;
  /** The slot of a key made elsewhere (another thread), or 0. */
  find(key: string): number;
  /**
   * The slot of `key`, made under policy record `index` if need be; `prepare` runs on a new slot
   * before anyone can see it. Returns the slot, negated when new.
   */
  make(key: string, index: number, prepare: (slot: number) => void): number;
  /** A Breaker was made for `key` in this thread. */
  added(breaker: Breaker): void;
  delete(key: string): boolean;
  keys(): IterableIterator<string>;
  /** By slot address, for sweeps: the Breaker (a local box), or the key (a shared box). */
  bySlot(): Map<number, Breaker | string>;
}

/** A box of one thread's keys: the Breaker objects themselves, with optional eviction. */
export class LocalKeys implements Keys {
  /** Breaker by slot, built by the first sweep and dropped on any change. */
  #bySlot: Map<number, Breaker> | undefined = undefined;
  /** With maxKeys: the CLOCK of breakers (their places), its hand, and the free places. */
  readonly #clock: (Breaker | null)[] = [];
  #hand = 0;
  readonly #holes: number[] = [];
  #placed = -1;

  constructor(
    private readonly store: Store,
    private readonly breakers: Map<string, Breaker>,
    private readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.breakers.size;
  }

  has(key: string): boolean {
    return this.breakers.has(key);
  }

  find(): number {
    return 0;
  }

  make(_key: string, index: number, prepare: (slot: number) => void): number {
    this.#placed = this.maxKeys === Number.POSITIVE_INFINITY ? -1 : this.#place();
    const slot = this.store.allocate(index);
    prepare(slot);
    return -slot;
  }

  added(breaker: Breaker): void {
    this.#bySlot = undefined;
    if (this.#placed < 0) return;
    this.#clock[this.#placed] = breaker;
    internals.setPosition(breaker, this.#placed);
  }

  /**
   * A place on the clock for a new breaker of a box with maxKeys: a free one, or the place of the
   * breaker it evicts. The hand sweeps the clock; a breaker used since it last passed gets a
   * second chance (its mark is cleared), the first one unused since is evicted (CLOCK, an LRU
   * estimate).
   */
  #place(): number {
    if (this.#holes.length > 0) return this.#holes.pop() as number;
    const clock = this.#clock;
    if (clock.length < this.maxKeys) {
      clock.push(null);
      return clock.length - 1;
    }
    for (;;) {
      const at = this.#hand;
      this.#hand = at + 1 === clock.length ? 0 : at + 1;
      const breaker = clock[at] as Breaker;
      if (!internals.used(breaker)) {
        this.delete(breaker.key as string);
        return this.#holes.pop() as number; // the place delete() just freed
      }
    }
  }

  delete(key: string): boolean {
    const breaker = this.breakers.get(key);
    if (breaker === undefined) return false;
    this.breakers.delete(key);
    internals.release(breaker);
    const position = internals.positionOf(breaker);
    if (position >= 0) {
      this.#clock[position] = null;
      this.#holes.push(position);
    }
    this.#bySlot = undefined;
    this.store.release(internals.slotOf(breaker));
    return true;
  }

  keys(): IterableIterator<string> {
    return this.breakers.keys();
  }

  bySlot(): Map<number, Breaker> {
    if (this.#bySlot === undefined) {
      this.#bySlot = new Map();
      for (const breaker of this.breakers.values())
        this.#bySlot.set(internals.slotOf(breaker), breaker);
    }
    return this.#bySlot;
  }
}

/** A shared box's keys: the key table in its memory. Keys are never deleted. */
export class SharedKeys implements Keys {
  #bySlot: Map<number, string> | undefined = undefined;
  #bySlotCount = -1;

  constructor(
    private readonly store: Store,
    private readonly space: SharedSpace,
    private readonly breakers: Map<string, Breaker>,
  ) {}

  get size(): number {
    return keyCount(this.store);
  }

  has(key: string): boolean {
    return this.breakers.has(key) || (typeof key === "string" && findKey(this.store, key) !== 0);
  }

  find(key: string): number {
    const slot = findKey(this.store, key);
    if (slot !== 0) this.store.policies.sync(this.store); // it may run a policy another thread added
    return slot;
  }

  make(key: string, index: number, prepare: (slot: number) => void): number {
    return makeKey(this.space, this.store, key, index, prepare);
  }

  added(): void {}

  /** A shared box cannot delete breakers (another thread may be using one). */
  delete(key: string): boolean {
    throw new TypeError(
      `breakerbox: a shared box cannot delete breakers (asked to delete ${JSON.stringify(key)})`,
    );
  }

  *keys(): IterableIterator<string> {
    for (const [key] of keyEntries(this.store)) yield key;
  }

  bySlot(): Map<number, string> {
    const count = keyCount(this.store);
    if (this.#bySlot === undefined || this.#bySlotCount !== count) {
      this.#bySlotCount = count;
      this.#bySlot = new Map();
      for (const [key, slot] of keyEntries(this.store)) this.#bySlot.set(slot, key);
    }
    return this.#bySlot;
  }
}
