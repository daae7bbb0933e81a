// What `npm run bench` measures, through the public API only, as a user would. Bundled from source
// by bench/run.mjs (the same code as dist/).
import { Breaker, BreakerBox, clockReads, type EngineName } from "../src/index.js";
import { SharedBreakerBox } from "../src/shared.js";
import {
  cockatielWithTimeout,
  type Guard,
  guard,
  INCUMBENTS,
  type Incumbent,
} from "./incumbents.js";

export { INCUMBENTS };

/** Synchronous operations per timed sample; ns/op = sample time / OPS. */
export const OPS = 10_000;
/** Awaited operations per timed sample. */
export const ASYNC_OPS = 1_000;

export interface Workload {
  name: string;
  /** 'wasm', 'js', an incumbent, or 'floor' (the same work with no breaker). */
  subject: string;
  /** Operations one call of `run` performs. */
  ops: number;
  run: () => void | Promise<void>;
}

const resolved = async () => 1;
const readsSignal = async ({ signal }: { signal: AbortSignal }) => (signal.aborted ? 0 : 1);
/** The row of an awaited call with a 1 s timeout: do({ timeoutMs }), cockatiel's wrap(timeout, breaker), opossum's own. */
export const TIMEOUT_ROW = "2 with a 1 s timeout: await do(asyncFn)";

/** An adaptive breaker (fast recovery) in an outage: 2 s of failures, on a clock that then stands still. */
function inOutage(engine: EngineName): Breaker {
  let t = 0;
  const breaker = new Breaker({ engine, seed: 1, now: () => t });
  for (let i = 0; i < 2000; i++) {
    t = i;
    const token = breaker.tryAcquire();
    if (token !== 0) breaker.reject(token);
  }
  return breaker;
}

/** A breaker that drops nearly every call: 5000 failures in its window. */
function tripped(engine: EngineName): Breaker {
  const breaker = new Breaker({ engine, seed: 1 });
  for (let i = 0; i < 5000; i++) {
    const token = breaker.tryAcquire();
    if (token !== 0) breaker.reject(token);
  }
  return breaker;
}

function randomPicks(count: number): Uint16Array {
  let seed = 1;
  return Uint16Array.from({ length: 65_536 }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % count;
  });
}

const KEYS = Array.from({ length: 10_000 }, (_, i) => `GET://api/v1/resource-${i}/:id`);

/** Workloads 1–4 on one breakerbox engine. */
export function breakerboxWorkloads(engine: EngineName): Workload[] {
  const breaker = new Breaker({ engine });
  const open = tripped(engine);
  const disabled = new Breaker({ engine, trip: { consecutiveFailures: 5 } });
  disabled.disable(); // every call passes and every failure reaches the core
  const consecutive = new Breaker({ engine, trip: { consecutiveFailures: 5 } });
  const ratio = new Breaker({
    engine,
    trip: { failureRatio: 0.5, minRequests: 20 },
    windowMs: 10_000,
    buckets: 10,
  });
  const outage = inOutage(engine);
  const forced = new Breaker({ engine, policy: "three-state" });
  forced.forceOpen();
  const box = new BreakerBox({ engine });
  for (const key of KEYS) box.get(key);
  const picks = randomPicks(KEYS.length);
  let pick = 0;
  // biome-ignore lint/correctness/noUnusedVariables: a sink keeps the measured results alive
  let sink = 0;
  const one = () => 1;
  const fallback = () => 0;
  const s = (name: string, run: () => void): Workload => ({ name, subject: engine, ops: OPS, run });
  const a = (name: string, ops: number, run: () => Promise<void>): Workload => ({
    name,
    subject: engine,
    ops,
    run,
  });
  return [
    s("1 sync: tryAcquire + accept (zero-allocation)", () => {
      for (let i = 0; i < OPS; i++) breaker.accept(breaker.tryAcquire());
    }),
    s("1 sync: allow() + permit.accept()", () => {
      for (let i = 0; i < OPS; i++) breaker.allow()?.accept();
    }),
    s("1 sync: do(syncFn)", () => {
      for (let i = 0; i < OPS; i++) sink += breaker.do(one);
    }),
    s("1 sync: three-state, consecutive failures: tryAcquire + accept", () => {
      for (let i = 0; i < OPS; i++) consecutive.accept(consecutive.tryAcquire());
    }),
    s("1 sync: three-state, failure ratio over 10 buckets: tryAcquire + accept", () => {
      for (let i = 0; i < OPS; i++) ratio.accept(ratio.tryAcquire());
    }),
    s("1 sync: failures, every one settled by the core: tryAcquire + reject", () => {
      for (let i = 0; i < OPS; i++) disabled.reject(disabled.tryAcquire());
    }),
    a("2 await do(asyncFn)", ASYNC_OPS, async () => {
      for (let i = 0; i < ASYNC_OPS; i++) sink += await breaker.do(resolved);
    }),
    a(TIMEOUT_ROW, ASYNC_OPS, async () => {
      for (let i = 0; i < ASYNC_OPS; i++) sink += await breaker.do(resolved, { timeoutMs: 1000 });
    }),
    a(`${TIMEOUT_ROW}, fn reads its signal`, ASYNC_OPS, async () => {
      for (let i = 0; i < ASYNC_OPS; i++)
        sink += await breaker.do(readsSignal, { timeoutMs: 1000 });
    }),
    a("2 do(asyncFn), 100 in flight", ASYNC_OPS, async () => {
      for (let i = 0; i < ASYNC_OPS; i += 100) {
        const batch: Promise<number>[] = [];
        for (let j = 0; j < 100; j++) batch.push(breaker.do(resolved));
        await Promise.all(batch);
      }
    }),
    a("3 open: await do(asyncFn) rejects", ASYNC_OPS, async () => {
      for (let i = 0; i < ASYNC_OPS; i++) {
        try {
          sink += await open.do(resolved);
        } catch {
          sink++;
        }
      }
    }),
    s("3 open: do(syncFn, { fallback })", () => {
      for (let i = 0; i < OPS; i++) sink += open.do(one, { fallback });
    }),
    s("3 open: tryAcquire() → 0", () => {
      for (let i = 0; i < OPS; i++) {
        const token = open.tryAcquire();
        if (token !== 0) open.reject(token); // the rare probe it lets through fails, keeping it open
      }
    }),
    s("3 open: adaptive in an outage (probes only), tryAcquire() → 0", () => {
      for (let i = 0; i < OPS; i++) {
        const token = outage.tryAcquire();
        if (token !== 0) outage.reject(token);
      }
    }),
    s("3 open: three-state forced open, tryAcquire() → 0", () => {
      for (let i = 0; i < OPS; i++) sink += forced.tryAcquire();
    }),
    s("4 10k keys: get(randomKey) + tryAcquire + accept", () => {
      for (let i = 0; i < OPS; i++) {
        const b = box.get(KEYS[picks[pick++ & 0xffff]]);
        b.accept(b.tryAcquire());
      }
    }),
    a("4 10k keys: await box.do(randomKey, asyncFn)", ASYNC_OPS, async () => {
      for (let i = 0; i < ASYNC_OPS; i++)
        sink += await box.do(KEYS[picks[pick++ & 0xffff]], resolved);
    }),
    ...sharedWorkloads(engine, picks),
  ];
}

/** Workload 5: the same operations on a box shared by threads, here used by one. */
function sharedWorkloads(engine: EngineName, picks: Uint16Array): Workload[] {
  const box = new SharedBreakerBox({ engine, maxKeys: KEYS.length + 2 });
  const breaker = box.get("one");
  const consecutive = box.get("consecutive", { trip: { consecutiveFailures: 5 } });
  for (const key of KEYS) box.get(key);
  let pick = 0;
  const s = (name: string, run: () => void): Workload => ({ name, subject: engine, ops: OPS, run });
  return [
    s("5 shared box: tryAcquire + accept", () => {
      for (let i = 0; i < OPS; i++) breaker.accept(breaker.tryAcquire());
    }),
    s("5 shared box: three-state, consecutive failures: tryAcquire + accept", () => {
      for (let i = 0; i < OPS; i++) consecutive.accept(consecutive.tryAcquire());
    }),
    s("5 shared box, 10k keys: get(randomKey) + tryAcquire + accept", () => {
      for (let i = 0; i < OPS; i++) {
        const b = box.get(KEYS[picks[pick++ & 0xffff]]);
        b.accept(b.tryAcquire());
      }
    }),
  ];
}

/** Rows of workload 5 and the non-shared rows they compare with. */
export const SHARED_PAIRS: [string, string][] = [
  ["5 shared box: tryAcquire + accept", "1 sync: tryAcquire + accept (zero-allocation)"],
  [
    "5 shared box: three-state, consecutive failures: tryAcquire + accept",
    "1 sync: three-state, consecutive failures: tryAcquire + accept",
  ],
  [
    "5 shared box, 10k keys: get(randomKey) + tryAcquire + accept",
    "4 10k keys: get(randomKey) + tryAcquire + accept",
  ],
];

/**
 * Workload 7: `workers` worker threads, each doing `ops` tryAcquire + accept pairs round-robin over
 * the same 4 keys of one shared box (or, with `shared` false, each on a box of its own: the
 * no-contention reference), each thread holding back `successBatch` successes per breaker. Returns
 * operations per second over the wall time from the common start to the last worker's end.
 */
export async function threadThroughput(
  engine: EngineName,
  workers: number,
  ops: number,
  shared: boolean,
  successBatch = 1,
): Promise<number> {
  const { Worker } = await import("node:worker_threads");
  const box = new SharedBreakerBox({ engine, maxKeys: 16 });
  for (let k = 0; k < 4; k++) box.get(`upstream-${k}`);
  const start = new SharedArrayBuffer(8);
  const flag = new Int32Array(start);
  const url = new URL("./thread-worker.mjs", import.meta.url);
  const threads = Array.from(
    { length: workers },
    () =>
      new Worker(url, {
        workerData: { handle: box.share(), engine, ops, shared, start, successBatch },
      }),
  );
  const done = threads.map(
    (t) =>
      new Promise<{ begin: number; end: number }>((resolve, reject) => {
        t.once("message", resolve);
        t.once("error", reject);
      }),
  );
  while (Atomics.load(flag, 1) < workers) await new Promise((resolve) => setTimeout(resolve, 1));
  Atomics.store(flag, 0, 1);
  const times = await Promise.all(done);
  await Promise.all(threads.map((t) => t.terminate()));
  const wall = Math.max(...times.map((t) => t.end)) - Math.min(...times.map((t) => t.begin));
  return (workers * ops) / (wall / 1000);
}

/** The same awaited workloads on an incumbent, and the floor (no breaker). */
export function incumbentWorkloads(kind: Incumbent | "floor"): {
  workloads: Workload[];
  dispose(): void;
} {
  const guards: Guard[] = [];
  const make = (): Guard => {
    if (kind === "floor") return { call: (f) => f(), open() {}, dispose() {} };
    const g = guard(kind, resolved);
    guards.push(g);
    return g;
  };
  const healthy = make();
  const open = make();
  open.open();
  const keyed = new Map<string, Guard>();
  if (kind !== "opossum") for (const key of KEYS) keyed.set(key, make()); // opossum: 2 timers each, see creation
  const picks = randomPicks(KEYS.length);
  let pick = 0;
  // biome-ignore lint/correctness/noUnusedVariables: a sink keeps the measured results alive
  let sink = 0;
  const a = (name: string, run: () => Promise<void>): Workload => ({
    name,
    subject: kind,
    ops: ASYNC_OPS,
    run,
  });
  const workloads = [
    a("2 await do(asyncFn)", async () => {
      for (let i = 0; i < ASYNC_OPS; i++) sink += await healthy.call(resolved);
    }),
    a("2 do(asyncFn), 100 in flight", async () => {
      for (let i = 0; i < ASYNC_OPS; i += 100) {
        const batch: Promise<number>[] = [];
        for (let j = 0; j < 100; j++) batch.push(healthy.call(resolved));
        await Promise.all(batch);
      }
    }),
  ];
  if (kind === "cockatiel") {
    const call = cockatielWithTimeout();
    const signalled = async ({ signal }: { signal: AbortSignal }) => (signal.aborted ? 0 : 1);
    workloads.push(
      a(TIMEOUT_ROW, async () => {
        for (let i = 0; i < ASYNC_OPS; i++) sink += await call(resolved);
      }),
      a(`${TIMEOUT_ROW}, fn reads its signal`, async () => {
        for (let i = 0; i < ASYNC_OPS; i++) sink += await call(signalled as () => Promise<number>);
      }),
    );
  } else if (kind === "opossum") {
    // opossum times out every call by default (10 s): its healthy row is its row with a timeout.
    workloads.push(
      a(TIMEOUT_ROW, async () => {
        for (let i = 0; i < ASYNC_OPS; i++) sink += await healthy.call(resolved);
      }),
    );
  }
  if (kind !== "floor") {
    workloads.push(
      a("3 open: await do(asyncFn) rejects", async () => {
        for (let i = 0; i < ASYNC_OPS; i++) {
          try {
            sink += await open.call(resolved);
          } catch {
            sink++;
          }
        }
      }),
    );
  }
  if (keyed.size > 0) {
    workloads.push(
      a("4 10k keys: await box.do(randomKey, asyncFn)", async () => {
        for (let i = 0; i < ASYNC_OPS; i++)
          sink += await keyed.get(KEYS[picks[pick++ & 0xffff]])!.call(resolved);
      }),
    );
  }
  return {
    workloads,
    dispose: () => {
      for (const g of guards) g.dispose();
    },
  };
}

export interface Creation {
  ms: number;
  /** Core memory in use per breaker (breakerbox only). */
  coreBytes: number;
  heapBytes: number;
  /** Idle CPU while holding them, as a fraction of one core. */
  idleCpu?: number;
}

async function idle(ms: number): Promise<number> {
  const start = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / (performance.now() - started);
}

/**
 * `count` awaited do() calls in flight at once on 1,000 keys, with a 60 s timeout: the idle CPU
 * while they wait (over `idleMs`), and the JS heap each holds. Then they all finish.
 */
export async function inFlight(
  engine: EngineName,
  count: number,
  gc: () => void,
  idleMs: number,
): Promise<{ idleCpu: number; heapBytes: number }> {
  const box = new BreakerBox({ engine, timeoutMs: 60_000 });
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const calls: Promise<void>[] = [];
  for (let i = 0; i < count; i++) calls.push(box.do(`upstream-${i % 1000}`, () => gate));
  gc();
  const heapBytes = (process.memoryUsage().heapUsed - heapBefore) / count;
  const idleCpu = await idle(idleMs);
  release();
  await Promise.all(calls);
  return { idleCpu, heapBytes };
}

/**
 * A dashboard update over `count` breakers: what breakerbox/dashboard does once per interval per
 * box (one `watchStats()` poll: a core sweep, the changed breakers' rows, their JSON), with
 * `changed` breakers moved since the last. Median of 7, ms.
 */
export function dashboardUpdate(engine: EngineName, count: number, changed = 100): number {
  const box = new BreakerBox({ engine });
  for (let i = 0; i < count; i++) box.get(`upstream-${i}`);
  const watch = box.watchStats();
  watch.poll(() => {});
  const times: number[] = [];
  for (let round = 0; round < 7; round++) {
    for (let i = 0; i < changed; i++) {
      const breaker = box.get(`upstream-${(i * 7919 + round) % count}`);
      breaker.reject(breaker.tryAcquire());
    }
    const started = performance.now();
    const rows: unknown[] = [];
    watch.poll((key, s) => rows.push([key, s.state, s.requests, s.failures, s.dropRatio]));
    JSON.stringify(rows);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[3];
}

/** The policies whose creation cost and size are measured. */
export const POLICIES = {
  "adaptive, 40 buckets": {},
  "three-state, consecutive failures": { trip: { consecutiveFailures: 5 } },
  "three-state, failure ratio, 10 buckets": {
    trip: { failureRatio: 0.5 },
    windowMs: 10_000,
    buckets: 10,
  },
} as const;

/** Creates `count` breakers; measures time, bytes per breaker, and idle CPU over `idleMs`. */
export async function creation(
  subject: string,
  count: number,
  gc: () => void,
  idleMs: number,
  policy: keyof typeof POLICIES = "adaptive, 40 buckets",
): Promise<Creation> {
  const keys = Array.from({ length: count }, (_, i) => `upstream-${i}`);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  let coreBytes = 0;
  let dispose = () => {};
  let holder: unknown;
  if (subject === "wasm" || subject === "js") {
    const box = new BreakerBox({ engine: subject, ...POLICIES[policy] });
    const empty = box.bytesUsed; // the header and the policy table
    for (const key of keys) box.get(key);
    coreBytes = (box.bytesUsed - empty) / count;
    holder = box;
  } else {
    const map = new Map<string, Guard>();
    for (const key of keys) map.set(key, guard(subject as Incumbent, resolved));
    dispose = () => {
      for (const g of map.values()) g.dispose();
    };
    holder = map;
  }
  const ms = performance.now() - started;
  gc();
  const heapBytes = (process.memoryUsage().heapUsed - heapBefore) / count;
  const idleCpu = idleMs > 0 ? await idle(idleMs) : undefined;
  dispose();
  if (holder === undefined) throw new Error("unreachable");
  return { ms, coreBytes, heapBytes, idleCpu };
}

/** A box of `count` breakers, a tenth of them dropping. */
export function sweptBox(engine: EngineName, count: number): BreakerBox {
  const box = new BreakerBox({ engine, seed: 4 });
  for (let i = 0; i < count; i++) {
    const breaker = box.get(`upstream-${i}`);
    if (i % 10 === 0) for (let n = 0; n < 20; n++) breaker.reject(breaker.tryAcquire());
  }
  return box;
}

/** Workload 6: sweeps over `count` breakers, counted per breaker. */
export function sweepWorkloads(engine: EngineName, count: number): Workload[] {
  const box = sweptBox(engine, count);
  // biome-ignore lint/correctness/noUnusedVariables: a sink keeps the measured results alive
  let sink = 0;
  const n = count.toLocaleString("en");
  return [
    {
      name: `6 sweep: box.dropping() over ${n} breakers`,
      subject: engine,
      ops: count,
      run: () => {
        sink += box.dropping();
      },
    },
    {
      name: `6 sweep: box.forEachStats() over ${n} breakers`,
      subject: engine,
      ops: count,
      run: () => {
        box.forEachStats((_, s) => {
          sink += s.requests;
        });
      },
    },
  ];
}

/** A one-off timing of both sweeps over `count` breakers (for sizes tinybench would take too long on). */
export function timeSweeps(engine: EngineName, count: number): { dropping: number; stats: number } {
  const box = sweptBox(engine, count);
  let sink = 0;
  box.dropping(); // first touch
  let started = performance.now();
  sink += box.dropping();
  const dropping = performance.now() - started;
  started = performance.now();
  box.forEachStats((_, s) => {
    sink += s.requests;
  });
  const stats = performance.now() - started;
  if (sink < 0) throw new Error("unreachable");
  return { dropping, stats };
}

/** Calls per real clock read with the default clock, over `calls` allow+accept pairs. */
export function callsPerClockRead(calls: number): number {
  const breaker = new Breaker({ engine: "wasm" });
  const before = clockReads();
  for (let i = 0; i < calls; i++) breaker.accept(breaker.tryAcquire());
  return calls / Math.max(1, clockReads() - before);
}
