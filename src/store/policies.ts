// The policy table as one thread knows it: which record holds which policy. Records are written
// with the codec (src/core/policy-record.ts) and identified by their bytes; a thread learns the
// records other threads wrote (a shared box) by decoding them.
//
// In a box of one thread each record counts the slots made under it (`refs`; the box's default
// policy is pinned), and a record none uses any more is written over by the next new policy whose
// slots have the same size, so per-key options that change on every configuration reload never
// run out of the 256 records. Only the same size: a freed slot still names its record, and sweeps
// step over it by that record's slot size. A shared box never frees a record (nor a slot).

import { KIND_ADAPTIVE, KIND_THREE_STATE, POLICY_LIMIT } from "../core/layout.js";
import { policyKey, readPolicy, recordKey, slotBytes, writePolicy } from "../core/policy-record.js";
import type { Policy } from "../core/types.js";
import type { Store } from "./store.js";

export class PolicyTable {
  /** Record index by the record's identity (its bytes but the epoch). */
  private readonly byKey = new Map<string, number>();
  private readonly policies: Policy[] = [];
  /** Records this thread has read. */
  private known = 0;
  /** Per record: its kind (0 unused), and its slow-call threshold (Infinity when it counts none). */
  readonly kinds = new Uint8Array(POLICY_LIMIT);
  readonly slowCallMs = new Float64Array(POLICY_LIMIT).fill(Number.POSITIVE_INFINITY);
  /** Per record: slots made under it and not freed, plus one if pinned (a box's default policy). */
  readonly refs = new Uint32Array(POLICY_LIMIT);

  /** The checked policy of record `index`. */
  of(index: number): Policy {
    return this.policies[index];
  }

  /** The record of `policy`, written on first use (under the space's lock when shared). */
  index(store: Store, policy: Policy): number {
    const key = policyKey(policy, store.lockBytes);
    const found = this.byKey.get(key) ?? this.find(store, key);
    if (found !== undefined) return found;
    const unused = store.lockBytes === 0 ? this.unused(store, slotBytes(policy, 0)) : -1;
    if (unused >= 0) {
      this.byKey.delete(recordKey(store, unused));
      writePolicy(store, unused, policy, 0, store.now());
      store.forgetBucket(unused); // its epoch and bucket length are new
      this.learn(store, unused);
      return unused;
    }
    let index = -1;
    store.space.addPolicy(store, (count) => {
      index = this.find(store, key) ?? count; // another thread may have written it meanwhile
      if (index < count) return count;
      if (index === POLICY_LIMIT) {
        throw new RangeError(`breakerbox: a box holds at most ${POLICY_LIMIT} distinct policies`);
      }
      writePolicy(store, index, policy, store.lockBytes, store.now());
      return count + 1;
    });
    this.sync(store);
    return index;
  }

  /** Keeps record `index` for good (a box's default policy). */
  pin(index: number): void {
    this.refs[index]++;
  }

  /** Reads the records written since this thread last looked. */
  sync(store: Store): void {
    const count = store.space.policyCount(store);
    for (let index = this.known; index < count; index++) this.learn(store, index);
    if (count > this.known) this.known = count;
  }

  /** Decodes record `index` into this thread's tables. */
  private learn(store: Store, index: number): void {
    const policy = readPolicy(store, index);
    if (policy === undefined) return; // not a policy (a shared box's stats scratch)
    this.byKey.set(recordKey(store, index), index);
    this.policies[index] = policy;
    this.kinds[index] = policy.kind === "adaptive" ? KIND_ADAPTIVE : KIND_THREE_STATE;
    this.slowCallMs[index] =
      policy.kind === "three-state" ? policy.slowCallMs : Number.POSITIVE_INFINITY;
  }

  /** A record no slot uses any more whose slots are `size` bytes, or -1. */
  private unused(store: Store, size: number): number {
    for (let index = 0; index < this.known; index++) {
      if (this.refs[index] === 0 && this.kinds[index] !== 0 && store.slotSize(index) === size)
        return index;
    }
    return -1;
  }

  private find(store: Store, key: string): number | undefined {
    this.sync(store);
    return this.byKey.get(key);
  }
}
