// A shared box's keys: a hash table in the shared memory (src/core/layout.ts, "A key entry"), so a
// key names the same slot in every thread. Open addressing with linear probing over FNV-1a of the
// key's UTF-16 code units; the key itself lives in an arena. Entries are never removed. Lookups
// take no lock: an entry is read only once its slot word, stored last and atomically, is set.

import {
  BOX_ARENA_END_OFFSET,
  BOX_ARENA_TOP_OFFSET,
  BOX_KEY_COUNT_OFFSET,
  BOX_KEY_SLOTS_OFFSET,
  BOX_KEYS_OFFSET,
  KEY_AT,
  KEY_ENTRY_SIZE,
  KEY_HASH,
  KEY_LENGTH,
  KEY_SLOT,
  SLOT_ALIGN,
  SLOT_POLICY,
} from "../core/layout.js";
import type { SharedSpace } from "./shared-space.js";
import type { Store } from "./store.js";

/** Bytes of key arena per key a shared box can hold (keys are stored as UTF-16 code units). */
export const KEY_BYTES_PER_KEY = 64;

/** FNV-1a over the key's UTF-16 code units. */
function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** How many keys the box holds. */
export function keyCount(store: Store): number {
  return Atomics.load(store.u32, BOX_KEY_COUNT_OFFSET >>> 2);
}

/** The slot of `key`, or 0 when no thread has made it. */
export function findKey(store: Store, key: string): number {
  const u32 = store.u32;
  const hash = hashKey(key);
  const table = u32[BOX_KEYS_OFFSET >>> 2];
  const mask = u32[BOX_KEY_SLOTS_OFFSET >>> 2] - 1;
  for (let i = hash & mask; ; i = (i + 1) & mask) {
    const entry = table + i * KEY_ENTRY_SIZE;
    const slot = Atomics.load(u32, (entry + KEY_SLOT) >>> 2);
    if (slot === 0) return 0;
    if (
      u32[(entry + KEY_HASH) >>> 2] === hash &&
      u32[(entry + KEY_LENGTH) >>> 2] === key.length &&
      keyIsAt(store, u32[(entry + KEY_AT) >>> 2], key)
    ) {
      store.reach(slot + SLOT_ALIGN);
      store.reach(slot + store.slotSize(store.u8[slot + SLOT_POLICY]));
      return slot;
    }
  }
}

/**
 * The slot of `key`, made under policy record `index` if no thread has made it yet; `prepare`
 * runs on a new slot before any other thread can see it. Returns the slot, negated when new.
 */
export function makeKey(
  space: SharedSpace,
  store: Store,
  key: string,
  index: number,
  prepare: (slot: number) => void,
): number {
  return space.locked(store, () => {
    const found = findKey(store, key);
    if (found !== 0) return found;
    const u32 = store.u32;
    const count = u32[BOX_KEY_COUNT_OFFSET >>> 2];
    const slots = u32[BOX_KEY_SLOTS_OFFSET >>> 2];
    const table = u32[BOX_KEYS_OFFSET >>> 2];
    // maxKeys is not stored: the arena was sized from it.
    const maxKeys =
      (u32[BOX_ARENA_END_OFFSET >>> 2] - table - slots * KEY_ENTRY_SIZE) / KEY_BYTES_PER_KEY;
    if (count >= maxKeys) {
      throw new RangeError(
        `breakerbox: a shared box holds at most ${maxKeys} keys (maxKeys); it is full`,
      );
    }
    const at = u32[BOX_ARENA_TOP_OFFSET >>> 2];
    if (at + key.length * 2 > u32[BOX_ARENA_END_OFFSET >>> 2]) {
      throw new RangeError(
        `breakerbox: a shared box's key arena is full (${KEY_BYTES_PER_KEY} bytes per key of maxKeys); use shorter keys or a larger maxKeys`,
      );
    }
    const slot = space.allocateLocked(store, index);
    prepare(slot);
    for (let i = 0; i < key.length; i++) store.u16[(at >>> 1) + i] = key.charCodeAt(i);
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

function keyIsAt(store: Store, at: number, key: string): boolean {
  const u16 = store.u16;
  for (let i = 0; i < key.length; i++) if (u16[(at >>> 1) + i] !== key.charCodeAt(i)) return false;
  return true;
}

function keyAt(store: Store, at: number, length: number): string {
  let key = "";
  for (let i = 0; i < length; i++) key += String.fromCharCode(store.u16[(at >>> 1) + i]);
  return key;
}

/** Every key with its slot, in table order. */
export function* keyEntries(store: Store): Generator<[string, number]> {
  const u32 = store.u32;
  const table = u32[BOX_KEYS_OFFSET >>> 2];
  const slots = u32[BOX_KEY_SLOTS_OFFSET >>> 2];
  for (let i = 0; i < slots; i++) {
    const entry = table + i * KEY_ENTRY_SIZE;
    const slot = Atomics.load(u32, (entry + KEY_SLOT) >>> 2);
    if (slot !== 0)
      yield [keyAt(store, u32[(entry + KEY_AT) >>> 2], u32[(entry + KEY_LENGTH) >>> 2]), slot];
  }
}
