// One box shared by worker threads (breakerbox/shared), on both engines: no lost updates, one
// winner per transition, one slot per key whichever thread makes it, and growth while threads run.
// The workers (test/shared/worker.mjs) run the built package, as users' workers would.
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { BreakerBox } from "../dist/index.js";
import { SharedBreakerBox, type ShareHandle, sharedMemoryAvailable } from "../dist/shared.js";

const WORKER = new URL("./shared/worker.mjs", import.meta.url);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `count` workers on `box` at once (they spin on a barrier until all are attached). */
async function run<T>(
  box: SharedBreakerBox,
  count: number,
  data: Record<string, unknown>,
): Promise<T[]> {
  const start = new SharedArrayBuffer(8);
  const flag = new Int32Array(start);
  const handle: ShareHandle = box.share();
  const workers = Array.from(
    { length: count },
    (_, id) => new Worker(WORKER, { workerData: { handle, start, id, ...data } }),
  );
  const results = workers.map(
    (worker) =>
      new Promise<T>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
        worker.once("exit", (code) =>
          reject(new Error(`worker exited with ${code} before answering`)),
        );
      }),
  );
  while (Atomics.load(flag, 1) < count) await sleep(1);
  Atomics.store(flag, 0, 1);
  try {
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** The generation (u16 at byte 2) and state (byte 4) of a breaker's slot, from its snapshot. */
function slotHeader(box: SharedBreakerBox, key: string): { gen: number; state: number } {
  const bytes = Buffer.from(box.get(key).toJSON().slot, "base64");
  return { gen: bytes.readUInt16LE(2), state: bytes[4] };
}

interface Issued {
  success: number;
  failure: number;
  excluded: number;
  dropped: number;
}
const sum = (issued: Issued[][], k: number, field: keyof Issued) =>
  issued.reduce((total, one) => total + one[k][field], 0);

describe.each(["wasm", "js"] as const)("a shared box on the %s engine", (engine) => {
  it("is on the engine asked for, with shared memory", () => {
    expect(sharedMemoryAvailable()).toBe(true);
    const box = new SharedBreakerBox({ engine, maxKeys: 8 });
    expect(box.engine).toBe(engine);
    expect(box).toBeInstanceOf(BreakerBox);
    const handle = box.share();
    const memory =
      handle.memory instanceof WebAssembly.Memory ? handle.memory.buffer : handle.memory;
    expect(memory).toBeInstanceOf(SharedArrayBuffer);
  });

  it("counts every settlement of 4 workers × 1,000,000 mixed operations on the same keys (three-state)", async () => {
    const keys = ["a", "b", "c"];
    const policy = { trip: { consecutiveFailures: 1e9 } };
    const box = new SharedBreakerBox({ engine, maxKeys: 16 });
    const results = await run<{ issued: Issued[] }>(box, 4, {
      scenario: "counts",
      n: 1_000_000,
      keys,
      policy,
    });
    const issued = results.map((r) => r.issued);
    let total = 0;
    keys.forEach((key, k) => {
      const counts = box.get(key).counts;
      expect(counts.successes).toBe(sum(issued, k, "success"));
      expect(counts.failures).toBe(sum(issued, k, "failure"));
      expect(counts.exclusions).toBe(sum(issued, k, "excluded"));
      expect(counts.requests).toBe(
        sum(issued, k, "success") + sum(issued, k, "failure") + sum(issued, k, "excluded"),
      );
      expect(sum(issued, k, "dropped")).toBe(0);
      total += counts.requests;
    });
    expect(total).toBe(4_000_000);
  }, 120_000);

  it("counts every settlement and every drop of 2 workers on the same keys (adaptive, go-zero)", async () => {
    const keys = ["x", "y"];
    // A long window so that nothing rolls out during the run; failures high enough to drop some calls.
    const policy = {
      windowMs: 3_600_000,
      buckets: 40,
      recovery: "go-zero",
      protection: 0,
      k: 1.01,
      minK: 1.01,
      forcePassMs: Infinity,
    };
    const box = new SharedBreakerBox({ engine, maxKeys: 16 });
    const results = await run<{ issued: Issued[] }>(box, 2, {
      scenario: "counts",
      n: 1_000_000,
      keys,
      policy,
    });
    const issued = results.map((r) => r.issued);
    for (const stats of box.stats()) {
      const k = keys.indexOf(stats.key);
      expect(stats.successes).toBe(sum(issued, k, "success"));
      expect(stats.failures).toBe(sum(issued, k, "failure"));
      expect(stats.drops).toBe(sum(issued, k, "dropped"));
      expect(stats.requests).toBe(
        sum(issued, k, "success") + sum(issued, k, "failure") + sum(issued, k, "dropped"),
      );
    }
    expect(keys.reduce((n, _, k) => n + sum(issued, k, "dropped"), 0)).toBeGreaterThan(0);
  }, 120_000);

  it("counts every settlement of 2 workers batching their successes, once they flush", async () => {
    const keys = ["x", "y", "z"];
    const policy = { windowMs: 3_600_000, buckets: 40, recovery: "go-zero" };
    const box = new SharedBreakerBox({ engine, maxKeys: 16 });
    const results = await run<{ issued: Issued[] }>(box, 2, {
      scenario: "counts",
      n: 1_000_000,
      keys,
      policy,
      successBatch: 64,
    });
    const issued = results.map((r) => r.issued);
    for (const stats of box.stats()) {
      const k = keys.indexOf(stats.key);
      expect(stats.successes).toBe(sum(issued, k, "success"));
      expect(stats.failures).toBe(sum(issued, k, "failure"));
      expect(stats.requests).toBe(
        sum(issued, k, "success") + sum(issued, k, "failure") + sum(issued, k, "dropped"),
      );
    }
  }, 120_000);

  it("folds successes counted in a lock word only into the generation they were settled in", () => {
    const now = 9_000_000;
    const box = new SharedBreakerBox({ engine, maxKeys: 4, now: () => now });
    const breaker = box.get("k", { trip: { consecutiveFailures: 2 } });
    for (let i = 0; i < 3; i++) breaker.accept(breaker.tryAcquire()); // closed: counted lock-free
    expect(breaker.counts.successes).toBe(3);
    // Write into the lock word as a settlement racing a state change would: 5 successes tagged
    // with the generation before the change, then 7 with the current one.
    const handle = box.share();
    const memory =
      handle.memory instanceof WebAssembly.Memory ? handle.memory.buffer : handle.memory;
    const bytes = Buffer.from(breaker.toJSON().slot, "base64");
    const gen = bytes.readUInt16LE(2);
    const words = new Uint32Array(memory);
    const slotAt = (() => {
      // the slot is the one whose generation and state bytes match, past the key table
      const u8 = new Uint8Array(memory);
      for (let at = 32832; at < u8.length - 80; at += 16) {
        if (Buffer.compare(Buffer.from(u8.subarray(at, at + 64)), bytes.subarray(0, 64)) === 0)
          return at;
      }
      throw new Error("slot not found");
    })();
    const lock = (slotAt + 80 - 4) >>> 2; // a consecutive-failures slot: 64 B + the lock word, padded to 80
    words[lock] = (((gen - 1) & 0xff) << 8) | (5 << 16);
    expect(breaker.counts.successes).toBe(3); // another generation's: dropped
    words[lock] = ((gen & 0xff) << 8) | (7 << 16);
    expect(breaker.counts.successes).toBe(10);
    expect(words[lock]).toBe(0);
  });

  it("survives workers terminated in the middle of calls: later calls complete and count", async () => {
    const box = new SharedBreakerBox({ engine, maxKeys: 4 });
    const policy = {
      trip: { failureRatio: 1, minRequests: 1_000_000 },
      windowMs: 60_000,
      buckets: 60,
    };
    const breaker = box.get("k", policy);
    for (let round = 0; round < 6; round++) {
      const start = new SharedArrayBuffer(8);
      const worker = new Worker(WORKER, {
        workerData: {
          handle: box.share(),
          start,
          id: round,
          scenario: "hammer",
          keys: ["k"],
          policy,
        },
      });
      while (Atomics.load(new Int32Array(start), 1) === 0) await sleep(1);
      await sleep(5 + round * 3);
      await worker.terminate(); // most likely inside a call, often holding the slot's lock
      const before = breaker.counts.failures;
      breaker.reject(breaker.tryAcquire()); // completes, taking the lock over if it was left held
      expect(breaker.counts.failures).toBe(before + 1);
    }
    breaker.reset();
    for (let i = 0; i < 5; i++) breaker.reject(breaker.tryAcquire());
    expect(breaker.counts).toMatchObject({ failures: 5, requests: 5 });
  }, 60_000);

  it("takes over a lock whose holder is gone (a thread stopped inside a call), losing nothing else", () => {
    const box = new SharedBreakerBox({ engine, maxKeys: 4 });
    const breaker = box.get("k", { trip: { consecutiveFailures: 2 } });
    const handle = box.share();
    const memory =
      handle.memory instanceof WebAssembly.Memory ? handle.memory.buffer : handle.memory;
    const words = new Uint32Array(memory);
    const bytes = Buffer.from(breaker.toJSON().slot, "base64");
    const u8 = new Uint8Array(memory);
    let slotAt = -1;
    for (let at = 32832; at < u8.length - 80 && slotAt < 0; at += 16) {
      if (Buffer.compare(Buffer.from(u8.subarray(at, at + 64)), bytes.subarray(0, 64)) === 0)
        slotAt = at;
    }
    const lock = (slotAt + 80 - 4) >>> 2;
    Atomics.store(words, lock, (5 << 1) | 1); // held by thread 5, which will never release it
    breaker.reject(breaker.tryAcquire()); // spins LOCK_SPINS tries, then takes the lock over
    expect(breaker.counts.failures).toBe(1);
    expect(Atomics.load(words, lock) & 0xff).toBe(0); // released by its new holder
    breaker.reject(breaker.tryAcquire());
    expect(breaker.state).toBe("open");
  }, 60_000);

  it("batched successes: held up to the batch, published by a full batch, a failure, a timer or flush(), dropped by a reset", async () => {
    const now = 7_000_000;
    const box = new SharedBreakerBox({ engine, maxKeys: 8, now: () => now });
    const other = SharedBreakerBox.attach(box.share(), { successBatch: 32, now: () => now }); // another thread, as far as batches go
    const mine = other.get("k");
    const seen = () => box.get("k").stats().successes;
    for (let i = 0; i < 10; i++) mine.accept(mine.tryAcquire());
    expect(seen()).toBe(0); // held back
    expect(mine.stats().successes).toBe(10); // the thread's own view is exact: its sweep publishes first
    expect(seen()).toBe(10);
    for (let i = 0; i < 31; i++) mine.accept(mine.tryAcquire());
    expect(seen()).toBe(10);
    mine.accept(mine.tryAcquire());
    expect(seen()).toBe(42); // a full batch
    for (let i = 0; i < 5; i++) mine.accept(mine.tryAcquire());
    mine.reject(mine.tryAcquire());
    expect(box.get("k").stats()).toMatchObject({ successes: 47, failures: 1 }); // published before the failure
    for (let i = 0; i < 5; i++) mine.accept(mine.tryAcquire());
    other.flush();
    expect(seen()).toBe(52);
    for (let i = 0; i < 5; i++) mine.accept(mine.tryAcquire());
    await sleep(30);
    expect(seen()).toBe(57); // the timer published them
    for (let i = 0; i < 5; i++) mine.accept(mine.tryAcquire());
    mine.reset();
    other.flush();
    expect(seen()).toBe(0);
    expect(() => SharedBreakerBox.attach(box.share(), { successBatch: 0 })).toThrow(/successBatch/);
    expect(() => new SharedBreakerBox({ engine, successBatch: 1.5 })).toThrow(/successBatch/);
  });

  it("has exactly one winner per transition: every generation step is one event in one thread", async () => {
    const key = "flaky";
    const policy = { trip: { consecutiveFailures: 1 }, openMs: 1 };
    const box = new SharedBreakerBox({ engine, maxKeys: 4 });
    box.get(key, policy);
    const before = slotHeader(box, key);
    const results = await run<{ events: string[]; passed: number }>(box, 3, {
      scenario: "transitions",
      n: 300_000,
      keys: [key],
      policy,
    });
    const after = slotHeader(box, key);
    const events = results.flatMap((r) => r.events);
    const transitions = (after.gen - before.gen + 65536) % 65536;
    expect(transitions).toBeGreaterThan(10);
    expect(events.length).toBe(transitions);
    // The events chain: every state is entered as often as it is left, but for the first and last.
    const names = ["closed", "open", "half-open"];
    for (const [s, name] of names.entries()) {
      const entered = events.filter((e) => e.endsWith(`>${name}`)).length;
      const left = events.filter((e) => e.startsWith(`${name}>`)).length;
      expect(entered - left, name).toBe((after.state === s ? 1 : 0) - (s === 0 ? 1 : 0));
    }
    expect(new Set(events)).toEqual(
      new Set(["closed>open", "open>half-open", "half-open>closed", "half-open>open"]),
    );
  }, 120_000);

  it("resolves a key made concurrently in 4 workers to one slot", async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `route-${i}-${"é".repeat(i % 5)}`);
    const box = new SharedBreakerBox({ engine, maxKeys: 2000 });
    await run(box, 4, { scenario: "create", keys, policy: { trip: { consecutiveFailures: 3 } } });
    expect(box.size).toBe(2000);
    expect(new Set(box.keys())).toEqual(new Set(keys));
    for (const key of keys) expect(box.get(key).counts.successes).toBe(4);
    expect(box.get(keys[0]).policy).toBe("three-state");
  }, 120_000);

  it("loses nothing while workers grow the memory", async () => {
    const hot = ["hot-1", "hot-2"];
    const box = new SharedBreakerBox({ engine, maxKeys: 16384 });
    for (const key of hot) box.get(key, { trip: { consecutiveFailures: 1e9 } });
    const bytes = box.bytesUsed;
    const results = await run<{ issued: number[]; bytes: number }>(box, 2, {
      scenario: "grow",
      n: 5000,
      keys: hot,
      policy: {},
    });
    expect(box.bytesUsed).toBeGreaterThan(bytes + 2 * 5000 * 512);
    expect(box.size).toBe(2 + 2 * 5000);
    for (const [j, key] of hot.entries()) {
      expect(box.get(key).counts.successes).toBe(results[0].issued[j] + results[1].issued[j]);
    }
    // Every key a worker made holds its one success, read from this thread's (refreshed) views.
    for (let id = 0; id < 2; id++) {
      for (const i of [0, 1, 2500, 4999]) expect(box.get(`w${id}-${i}`).stats().successes).toBe(1);
    }
    const swept = box.stats();
    expect(swept.length).toBe(2 + 2 * 5000);
    expect(swept.filter((s) => s.policy === "adaptive").every((s) => s.successes === 1)).toBe(true);
  }, 120_000);

  it("shares policies made in either thread, and a new key's options", async () => {
    const box = new SharedBreakerBox({ engine, maxKeys: 64, windowMs: 5000, buckets: 10 });
    const handle = box.share();
    const other = SharedBreakerBox.attach(handle); // a second attachment in this thread behaves as a worker's
    const made = other.get("made-there", { trip: { failureRatio: 0.5 }, windowCalls: 20 });
    made.reject(made.tryAcquire());
    expect(box.has("made-there")).toBe(true);
    const seen = box.get("made-there");
    expect(seen.policy).toBe("three-state");
    expect(seen.counts.failures).toBe(1);
    expect(box.get("default").policy).toBe("adaptive");
    expect(other.get("default").stats().requests).toBe(0);
    expect(
      box
        .stats()
        .map((s) => s.key)
        .sort(),
    ).toEqual(["default", "made-there"]);
  });

  it("opens on the success that completes a tripping window, also across a bucket boundary", () => {
    let now = 1_000_000;
    const box = new SharedBreakerBox({ engine, maxKeys: 4, now: () => now });
    const options = {
      policy: "three-state",
      trip: { failureRatio: 0.5, minRequests: 5 },
      windowMs: 1000,
      buckets: 2,
    } as const;
    const breaker = box.get("ratio", options);
    for (let i = 0; i < 3; i++) breaker.reject(breaker.tryAcquire());
    breaker.accept(breaker.tryAcquire());
    expect(breaker.state).toBe("closed");
    breaker.accept(breaker.tryAcquire()); // F F F S S: 3/5
    expect(breaker.state).toBe("open");
    const later = box.get("later", options);
    for (let i = 0; i < 4; i++) later.accept(later.tryAcquire());
    for (let i = 0; i < 3; i++) later.reject(later.tryAcquire()); // 3/7
    now += 500; // the next bucket: nothing left the window yet
    expect(later.state).toBe("closed");
    later.reject(later.tryAcquire()); // 4/8 trips on the failure, as before
    expect(later.state).toBe("open");
  });

  it("counts successes in the lock word up to its limit, then through the core, and drops them on reset", () => {
    let now = 1_000_000;
    const box = new SharedBreakerBox({ engine, maxKeys: 4, now: () => now });
    const breaker = box.get("busy");
    for (let i = 0; i < 70_000; i++) breaker.accept(breaker.tryAcquire()); // past SHARED_SUCCESS_LIMIT (65535)
    breaker.reject(breaker.tryAcquire());
    expect(breaker.stats()).toMatchObject({ requests: 70_001, successes: 70_000, failures: 1 });
    for (let i = 0; i < 10; i++) breaker.accept(breaker.tryAcquire());
    now += 300; // the next bucket: counted successes are folded into theirs before the window moves
    expect(box.stats()[0]).toMatchObject({ requests: 70_011, successes: 70_010 });
    for (let i = 0; i < 10; i++) breaker.accept(breaker.tryAcquire());
    breaker.reset();
    expect(breaker.stats()).toMatchObject({ requests: 0, successes: 0 });
  });

  it("snapshots travel between shared and unshared boxes, without the lock word", () => {
    let now = 5_000_000;
    const plain = new BreakerBox({ engine, now: () => now });
    const shared = new SharedBreakerBox({ engine, maxKeys: 8, now: () => now });
    for (const policy of [
      {},
      { trip: { consecutiveFailures: 3 } },
      { trip: { failureRatio: 0.5 }, windowCalls: 10 },
    ]) {
      const key = JSON.stringify(policy);
      const a = plain.get(key, policy);
      for (let i = 0; i < 30; i++) a.accept(a.tryAcquire());
      a.reject(a.tryAcquire());
      const b = shared.get(key, { initialState: a.toJSON() });
      expect(b.stats()).toMatchObject({ successes: a.stats().successes, failures: 1 });
      b.reject(b.tryAcquire());
      const c = new BreakerBox({ engine, now: () => now }).get(key, { initialState: b.toJSON() });
      expect(c.stats()).toMatchObject({ successes: a.stats().successes, failures: 2 });
      // The restored shared breaker still locks and counts: its lock word was not overwritten.
      for (let i = 0; i < 5; i++) b.accept(b.tryAcquire());
      expect(b.stats().successes).toBe(a.stats().successes + 5);
    }
    now += 1;
  });

  it("says clearly what it cannot do", () => {
    const box = new SharedBreakerBox({ engine, maxKeys: 2 });
    box.get("one");
    box.get("two");
    expect(() => box.get("three")).toThrow(RangeError);
    expect(() => box.get("three")).toThrow(/at most 2 keys \(maxKeys\)/);
    expect(() => box.delete("one")).toThrow(/cannot delete/);
    expect(() => SharedBreakerBox.attach({} as ShareHandle)).toThrow(TypeError);
    expect(() =>
      SharedBreakerBox.attach({
        ...box.share(),
        memory: new ArrayBuffer(8),
      } as unknown as ShareHandle),
    ).toThrow(/carries a/);
    const three = new SharedBreakerBox({ engine, maxKeys: 3 }); // a table of 8 entries, a limit of 3
    for (const key of ["a", "b", "c"]) three.get(key);
    expect(() => three.get("d")).toThrow(/at most 3 keys/);
    expect(() => SharedBreakerBox.attach(box.share(), { seed: 1 } as never)).toThrow(
      /unknown option "seed"/,
    );
    expect(() => new SharedBreakerBox({ engine, maxKeys: 0 })).toThrow(/maxKeys/);
    expect(() => new SharedBreakerBox({ engine, maxKeys: 1 << 20, maxBytes: 1 << 20 })).toThrow(
      RangeError,
    );
    const long = new SharedBreakerBox({ engine, maxKeys: 1 });
    expect(() => long.get("k".repeat(40))).toThrow(/key arena is full/);
  });
});

describe("shared: true outside breakerbox/shared", () => {
  it("BreakerBox says where shared boxes are", () => {
    expect(() => new BreakerBox({ shared: true })).toThrow(TypeError);
    expect(() => new BreakerBox({ shared: true })).toThrow(
      /SharedBreakerBox from 'breakerbox\/shared'/,
    );
    expect(new BreakerBox({ shared: false }).size).toBe(0);
  });
});
