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

import { LAYOUT_VERSION } from "../core/layout.js";
import { SuccessBatch } from "../store/shared-settle.js";
import {
  attachSharedStore,
  createSharedStore,
  type SharedSpace,
  sharedSpaceOf,
} from "../store/shared-space.js";
import { MAX_BYTES, type Store } from "../store/store.js";
import { BoxParts, BreakerBox, type BreakerBoxOptions } from "./box.js";
import { checkInteger, checkObject } from "./check.js";
import { checkBreakerOptions } from "./check-options.js";
import type { Classify } from "./classify.js";
import { BoxContext } from "./context.js";
import { SharedKeys } from "./keys.js";
import type { DropReport } from "./options.js";

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

/** A box's parts over a shared store (made here, or attached from a handle). */
function sharedParts(
  store: Store,
  onDrop: ((report: DropReport) => void) | undefined,
  dropReportMs: number,
  successBatch: number,
  defaultPolicy: (store: Store) => number,
  timeoutMs?: number,
  classify?: Classify,
): BoxParts {
  if (successBatch > 1) new SuccessBatch(store, successBatch);
  const context = new BoxContext(store, onDrop, dropReportMs, timeoutMs);
  context.classifyAll(classify);
  const ordinals = new Map<string, number>();
  const keys = new SharedKeys(store, sharedSpaceOf(store) as SharedSpace, context, ordinals);
  return new BoxParts(context, defaultPolicy(store), keys, ordinals);
}

function createParts(options: SharedBreakerBoxOptions | undefined): BoxParts {
  const isObject = typeof options === "object" && options !== null && !Array.isArray(options);
  const { maxKeys, maxBytes, shared, successBatch, ...rest } = (
    isObject ? options : {}
  ) as SharedBreakerBoxOptions;
  if (shared !== undefined && shared !== true) {
    throw new TypeError(
      `shared must be true for a SharedBreakerBox (or left out), got ${JSON.stringify(shared)}`,
    );
  }
  const checked = checkBreakerOptions("SharedBreakerBox options", isObject ? rest : options);
  const keys =
    maxKeys === undefined ? DEFAULT_MAX_KEYS : checkInteger("maxKeys", maxKeys, 1, 2 ** 24);
  const limit =
    maxBytes === undefined ? MAX_BYTES : checkInteger("maxBytes", maxBytes, 65536, MAX_BYTES);
  const batch =
    successBatch === undefined ? 1 : checkInteger("successBatch", successBatch, 1, 65535);
  const store = createSharedStore(checked.engine, checked.now, checked.seed, limit, keys);
  const policy = (s: Store) => s.policy(checked.policy);
  return sharedParts(
    store,
    checked.onDrop,
    checked.dropReportMs,
    batch,
    policy,
    checked.timeoutMs,
    checked.classify,
  );
}

/**
 * A BreakerBox whose breakers are shared by threads: create it in one, `share()` it, and
 * `SharedBreakerBox.attach(handle)` in each other. Breakers cannot be deleted; the key table holds
 * at most `maxKeys` keys. See the README, "One box for many threads".
 */
export class SharedBreakerBox extends BreakerBox {
  readonly #store: Store;
  readonly #defaultPolicy: number;

  constructor(options?: SharedBreakerBoxOptions);
  /** @internal A shared box of the given parts (attach). */
  constructor(parts: BoxParts);
  constructor(options?: SharedBreakerBoxOptions | BoxParts) {
    const parts = options instanceof BoxParts ? options : createParts(options);
    super(parts);
    this.#store = parts.context.store;
    this.#defaultPolicy = parts.defaultPolicy;
  }

  /**
   * This box in another thread: `handle` comes from `box.share()` (posted through `postMessage`
   * or `workerData`). The handle's memory is shared, not copied.
   */
  static attach(handle: ShareHandle, options?: AttachOptions): SharedBreakerBox {
    const h = handle as Partial<ShareHandle> | null;
    if (
      typeof h !== "object" ||
      h === null ||
      h.type !== "breakerbox/shared" ||
      (h.engine !== "wasm" && h.engine !== "js") ||
      typeof h.defaultPolicy !== "number"
    ) {
      throw new TypeError("breakerbox: SharedBreakerBox.attach takes what box.share() returned");
    }
    if (h.version !== LAYOUT_VERSION) {
      throw new TypeError(
        `breakerbox: the handle is of memory layout ${String(h.version)}, this breakerbox reads layout ${LAYOUT_VERSION}`,
      );
    }
    const { successBatch, ...checked } = checkObject("attach options", options ?? {}, ATTACH_KEYS);
    const { now, onDrop, dropReportMs } = checkBreakerOptions("attach options", checked);
    const batch =
      successBatch === undefined ? 1 : checkInteger("successBatch", successBatch, 1, 65535);
    const store = attachSharedStore(
      h.engine,
      h.memory as WebAssembly.Memory | SharedArrayBuffer,
      now,
    );
    return new SharedBreakerBox(
      sharedParts(store, onDrop, dropReportMs, batch, () => handle.defaultPolicy),
    );
  }

  /**
   * Publishes the successes this thread holds back (with `successBatch` above 1) to the other
   * threads now. Call it before a worker ends; with the default batch of 1 there is nothing to do.
   */
  flush(): void {
    this.#store.batch?.publishAll();
  }

  /** A handle to post to another thread, which passes it to `SharedBreakerBox.attach`. */
  share(): ShareHandle {
    const store = this.#store;
    return {
      type: "breakerbox/shared",
      version: LAYOUT_VERSION,
      engine: store.engineName,
      memory: (sharedSpaceOf(store) as SharedSpace).memory,
      defaultPolicy: this.#defaultPolicy,
    };
  }
}
