// What `npm run bench` measures. Bundled from source by bench/run.mjs (the same code as dist/),
// so it can also reach the core directly for the "one call per operation" comparison.
import { BoxMemory } from "../src/box-memory.js";
import { clockReads } from "../src/clock.js";
import { adaptivePolicy } from "../src/options.js";
import { Breaker, BreakerBox } from "../src/index.js";
import type { EngineName } from "../src/engine.js";

/** Operations each timed sample runs; a sample's time divided by this is ns per operation. */
export const OPS = 10_000;

export interface Workload {
  name: string;
  engine: EngineName;
  /** Runs OPS operations. */
  run: () => void;
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

export function workloads(engine: EngineName): Workload[] {
  const breaker = new Breaker({ engine });
  const open = tripped(engine);
  const memory = new BoxMemory(engine, undefined, 1, 4096);
  const slot = memory.allocate(memory.policy(adaptivePolicy({})));
  const generation = memory.generation(slot);
  const box = new BreakerBox({ engine });
  const keys = Array.from({ length: 10_000 }, (_, i) => `GET://api/v1/resource-${i}/:id`);
  for (const key of keys) box.get(key);
  let seed = 1;
  const picks = Uint16Array.from({ length: 65_536 }, () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % keys.length);
  let pick = 0;
  let sink = 0;
  const fn = () => 1;

  return [
    {
      name: "tryAcquire + accept (zero-allocation permit)",
      engine,
      run() {
        for (let i = 0; i < OPS; i++) breaker.accept(breaker.tryAcquire());
      },
    },
    {
      name: "allow() + permit.accept()",
      engine,
      run() {
        for (let i = 0; i < OPS; i++) breaker.allow()?.accept();
      },
    },
    {
      name: "do(syncFn)",
      engine,
      run() {
        for (let i = 0; i < OPS; i++) sink += breaker.do(fn);
      },
    },
    {
      name: "dropping: tryAcquire() → 0",
      engine,
      run() {
        for (let i = 0; i < OPS; i++) sink += open.tryAcquire();
      },
    },
    {
      name: "naive seam: core allow + record, one call each",
      engine,
      run() {
        const core = memory.core;
        for (let i = 0; i < OPS; i++) {
          const now = memory.now();
          if (core.allowAdaptive(slot, now) === 1) core.recordAdaptive(slot, generation, 0, memory.now());
        }
      },
    },
    {
      name: "10k keys: box.get(randomKey) + tryAcquire + accept",
      engine,
      run() {
        for (let i = 0; i < OPS; i++) {
          const b = box.get(keys[picks[pick++ & 0xffff]]);
          b.accept(b.tryAcquire());
        }
      },
    },
  ];
}

/** Creates `count` keyed breakers; returns ms taken and bytes per breaker (core memory + JS heap). */
export function creation(engine: EngineName, count: number, gc: () => void): { ms: number; coreBytes: number; heapBytes: number } {
  const keys = Array.from({ length: count }, (_, i) => `upstream-${i}`);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const box = new BreakerBox({ engine });
  for (const key of keys) box.get(key);
  const ms = performance.now() - started;
  gc();
  const heapBytes = (process.memoryUsage().heapUsed - heapBefore) / count;
  const coreBytes = box.bytesUsed / count;
  if (box.size !== count) throw new Error("lost breakers");
  return { ms, coreBytes, heapBytes };
}

/** Calls per real clock read with the default clock, over `calls` allow+accept pairs. */
export function callsPerClockRead(calls: number): number {
  const breaker = new Breaker({ engine: "wasm" });
  const before = clockReads();
  for (let i = 0; i < calls; i++) breaker.accept(breaker.tryAcquire());
  return calls / Math.max(1, clockReads() - before);
}
