// Where a box's keys live. A box of one thread keeps them in a Map from key to the breaker's
// ordinal (with an optional key limit and CLOCK eviction); a shared box keeps them in the key
// table in its shared memory, so every thread finds the same slot for a key, and each thread
// gives the keys it meets an ordinal of its own. Either way the box's context holds, by ordinal,
// what a breaker keeps in JS (./context.ts).

import { findKey, keyCount, keyEntries, makeKey } from "../store/key-table.js";
import type { SharedSpace } from "../store/shared-space.js";
import type { Store } from "../store/store.js";
import type { BoxContext } from "./context.js";

export interface Keys {
  /** Number of keys (for a shared box: made by any thread). */
  readonly size: number;
  has(key: string): boolean;
  /** This thread's ordinal for a key made elsewhere (another thread), or -1. */
  find(key: string): number;
  /**
   * The ordinal of `key`'s breaker, made under policy record `index` if need be; `prepare` runs on
   * a new slot before anyone can see it, and a new breaker keeps `reasons` (a snapshot's).
   */
  make(
    key: string,
    index: number,
    prepare: (slot: number) => void,
    reasons?: readonly unknown[],
  ): number;
  delete(key: string): boolean;
  keys(): IterableIterator<string>;
  /** By slot address, for sweeps: the ordinal (a local box), or the key (a shared box). */
  bySlot(): Map<number, number | string>;
}

/** Keeps a snapshot's reasons on a new breaker. */
function remember(
  context: BoxContext,
  ordinal: number,
  reasons: readonly unknown[] | undefined,
): void {
  if (reasons !== undefined)
    for (const reason of reasons) context.more(ordinal).remember(String(reason));
}

/** A box of one thread's keys, with optional eviction. */
export class LocalKeys implements Keys {
  /** Ordinal by slot, built by the first sweep and dropped on any change. */
  #bySlot: Map<number, number> | undefined = undefined;
  /** With maxKeys: the hand of the CLOCK that sweeps the ordinals. */
  #hand = 0;

  constructor(
    private readonly store: Store,
    private readonly context: BoxContext,
    private readonly ordinals: Map<string, number>,
    private readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.ordinals.size;
  }

  has(key: string): boolean {
    return this.ordinals.has(key);
  }

  find(): number {
    return -1;
  }

  make(
    key: string,
    index: number,
    prepare: (slot: number) => void,
    reasons?: readonly unknown[],
  ): number {
    const store = this.store;
    const context = this.context;
    // At the key limit, one breaker goes; but only once the new one has its slot, so that a
    // failure to make it (the box at maxBytes) evicts nothing. A victim of the same slot size
    // goes first and lends its slot, which cannot fail.
    const victim = this.ordinals.size >= this.maxKeys ? this.#victim() : -1;
    if (victim >= 0 && store.sizeOf(context.slots[victim]) === store.slotSize(index)) {
      this.delete(context.keys[victim] as string);
    }
    const slot = store.allocate(index);
    if (victim >= 0 && context.slots[victim] !== 0) this.delete(context.keys[victim] as string);
    try {
      prepare(slot);
    } catch (error) {
      store.release(slot);
      throw error;
    }
    const ordinal = context.enter(slot, key);
    this.ordinals.set(key, ordinal);
    remember(this.context, ordinal, reasons);
    this.#bySlot = undefined;
    return ordinal;
  }

  /**
   * The least recently used breaker, as CLOCK estimates it: the hand sweeps the ordinals; a
   * breaker used (through `get` or any call) since the hand last passed gets a second chance (its
   * mark is cleared), the first one unused since is the one.
   */
  #victim(): number {
    const context = this.context;
    for (;;) {
      const ordinal = this.#hand;
      this.#hand = ordinal + 1 >= context.count ? 0 : ordinal + 1;
      if (context.slots[ordinal] === 0) continue; // a free ordinal
      if (context.marks[ordinal] !== 0) {
        context.marks[ordinal] = 0;
        continue;
      }
      return ordinal;
    }
  }

  delete(key: string): boolean {
    const ordinal = this.ordinals.get(key);
    if (ordinal === undefined) return false;
    this.ordinals.delete(key);
    const slot = this.context.slots[ordinal];
    this.context.leave(ordinal);
    this.store.release(slot);
    this.#bySlot = undefined;
    return true;
  }

  keys(): IterableIterator<string> {
    return this.ordinals.keys();
  }

  bySlot(): Map<number, number> {
    if (this.#bySlot === undefined) {
      this.#bySlot = new Map();
      for (const ordinal of this.ordinals.values())
        this.#bySlot.set(this.context.slots[ordinal], ordinal);
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
    private readonly context: BoxContext,
    private readonly ordinals: Map<string, number>,
  ) {}

  get size(): number {
    return keyCount(this.store);
  }

  has(key: string): boolean {
    return this.ordinals.has(key) || (typeof key === "string" && findKey(this.store, key) !== 0);
  }

  find(key: string): number {
    const slot = findKey(this.store, key);
    if (slot === 0) return -1;
    this.store.policies.sync(this.store); // it may run a policy another thread added
    return this.#enter(key, slot);
  }

  make(
    key: string,
    index: number,
    prepare: (slot: number) => void,
    reasons?: readonly unknown[],
  ): number {
    const made = makeKey(this.space, this.store, key, index, prepare);
    const ordinal = this.#enter(key, Math.abs(made));
    if (made < 0) remember(this.context, ordinal, reasons); // another thread may have made it first
    return ordinal;
  }

  #enter(key: string, slot: number): number {
    const ordinal = this.context.enter(slot, key);
    this.ordinals.set(key, ordinal);
    return ordinal;
  }

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
