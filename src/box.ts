// Many keyed breakers sharing one memory: a gateway's breaker per route or upstream.

import { BoxMemory } from "./box-memory.js";
import { attachBreaker, Breaker, type DoOptions } from "./breaker.js";
import type { EngineName } from "./engine.js";
import { takeInitialState, type BreakerSnapshot } from "./snapshot.js";
import { checkBreakerOptions, checkPolicy, type BreakerOptions, type PolicyOptions } from "./options.js";

/** Options for a box: the default policy of its breakers, and the clock, seed and engine they share. */
export type BreakerBoxOptions = BreakerOptions;

export class BreakerBox {
  readonly #memory: BoxMemory;
  readonly #defaultPolicy: number;
  readonly #breakers = new Map<string, Breaker>();

  constructor(options?: BreakerBoxOptions) {
    const checked = checkBreakerOptions("BreakerBox options", options);
    this.#memory = new BoxMemory(checked.engine, checked.now, checked.seed, 64 * 1024);
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
    if (existing !== undefined) return existing;
    if (typeof key !== "string") throw new TypeError(`key must be a string, got ${typeof key}`);
    const initial = takeInitialState("breaker options", options);
    const policy = initial.policy !== undefined ? this.#memory.policy(initial.policy)
      : options === undefined ? this.#defaultPolicy
      : this.#memory.policy(checkPolicy("breaker options", options));
    const breaker = attachBreaker(this.#memory, this.#memory.allocate(policy), key, initial.snapshot);
    this.#breakers.set(key, breaker);
    return breaker;
  }

  /** Whether a breaker exists for `key`. */
  has(key: string): boolean {
    return this.#breakers.has(key);
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

  /** The keys, in creation order. */
  keys(): IterableIterator<string> {
    return this.#breakers.keys();
  }

  /** `get(key).do(fn, options)`. */
  do<R>(key: string, fn: () => R, options?: DoOptions<R>): R {
    return this.get(key).do(fn, options);
  }
}
