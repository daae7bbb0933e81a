// A worker of workload 7 (bench/workloads.ts threadThroughput): attaches to the shared box, or makes a
// box of its own, waits for the common start, then times `ops` tryAcquire + accept pairs over 4 keys.
import { parentPort, workerData } from "node:worker_threads";
import { BreakerBox } from "../src/index.js";
import { SharedBreakerBox } from "../src/shared.js";

const { handle, engine, ops, shared, start, successBatch } = workerData;
const box = shared ? SharedBreakerBox.attach(handle, { successBatch }) : new BreakerBox({ engine });
const breakers = [0, 1, 2, 3].map((k) => box.get(`upstream-${k}`));
// Warm up the JIT on the same code before the timed run.
for (let i = 0; i < 200_000; i++) {
  const b = breakers[i & 3];
  b.accept(b.tryAcquire());
}
const flag = new Int32Array(start);
Atomics.add(flag, 1, 1);
while (Atomics.load(flag, 0) === 0) {
  /* spin until every worker is ready */
}
const begin = performance.timeOrigin + performance.now();
for (let i = 0; i < ops; i++) {
  const b = breakers[i & 3];
  b.accept(b.tryAcquire());
}
if (box instanceof SharedBreakerBox) box.flush();
const end = performance.timeOrigin + performance.now();
parentPort!.postMessage({ begin, end });
