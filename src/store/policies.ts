// The policy table as one thread knows it: which record holds which policy. Records are written
// with the codec (src/core/policy-record.ts) and identified by their bytes; a thread learns the
// records other threads wrote (a shared box) by decoding them.

import { KIND_ADAPTIVE, KIND_THREE_STATE, POLICY_LIMIT } from "../core/layout.js";
import { policyKey, readPolicy, recordKey, writePolicy } from "../core/policy-record.js";
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

  /** The checked policy of record `index`. */
  of(index: number): Policy {
    return this.policies[index];
  }

  /** The record of `policy`, written on first use (under the space's lock when shared). */
  index(store: Store, policy: Policy): number {
    const key = policyKey(policy, store.lockBytes);
    const found = this.byKey.get(key) ?? this.find(store, key);
    if (found !== undefined) return found;
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

  /** Reads the records written since this thread last looked. */
  sync(store: Store): void {
    const count = store.space.policyCount(store);
    for (let index = this.known; index < count; index++) {
      const policy = readPolicy(store, index);
      if (policy === undefined) continue; // not a policy (a shared box's stats scratch)
      this.byKey.set(recordKey(store, index), index);
      this.policies[index] = policy;
      this.kinds[index] = policy.kind === "adaptive" ? KIND_ADAPTIVE : KIND_THREE_STATE;
      if (policy.kind === "three-state") this.slowCallMs[index] = policy.slowCallMs;
    }
    if (count > this.known) this.known = count;
  }

  private find(store: Store, key: string): number | undefined {
    this.sync(store);
    return this.byKey.get(key);
  }
}
