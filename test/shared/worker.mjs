// A worker of test/shared.test.ts: attaches to the box it is handed and runs one scenario on it,
// posting back exactly what it issued, so the main thread can check the box's totals against it.
import { parentPort, workerData } from "node:worker_threads";
import { SharedBreakerBox } from "../../dist/shared.js";

const { handle, scenario, id, n, keys, policy, start, successBatch } = workerData;
const box = SharedBreakerBox.attach(handle, { successBatch });

/** Spins until every worker is attached, so the scenario runs on all of them at once. */
function barrier() {
  const flag = new Int32Array(start);
  Atomics.add(flag, 1, 1);
  while (Atomics.load(flag, 0) === 0) {
    /* spin */
  }
}

// A deterministic outcome per operation: mostly successes, some failures and exclusions.
const outcomeOf = (i) => (i % 7 === 3 ? "failure" : i % 11 === 5 ? "excluded" : "success");

function counts() {
  const breakers = keys.map((key) => box.get(key, policy));
  const issued = keys.map(() => ({ success: 0, failure: 0, excluded: 0, dropped: 0 }));
  barrier();
  for (let i = 0; i < n; i++) {
    const k = (i * 7 + id) % keys.length;
    const breaker = breakers[k];
    const token = breaker.tryAcquire();
    if (token === 0) {
      issued[k].dropped++;
      continue;
    }
    const outcome = outcomeOf(i);
    issued[k][outcome]++;
    if (outcome === "success") breaker.accept(token);
    else if (outcome === "failure") breaker.reject(token);
    else breaker.exclude(token);
  }
  box.flush(); // publishes what a batch holds back (nothing without successBatch)
  return { issued };
}

function transitions() {
  const breaker = box.get(keys[0], policy);
  const events = [];
  breaker.onStateChange(({ from, to }) => events.push(`${from}>${to}`));
  barrier();
  let passed = 0;
  for (let i = 0; i < n; i++) {
    const token = breaker.tryAcquire();
    if (token === 0) continue;
    passed++;
    // Failures trip it, successes while half-open close it: many transitions, raced by every worker.
    if ((i + id) % 3 === 0) breaker.reject(token);
    else breaker.accept(token);
  }
  return { events, passed };
}

function create() {
  // Every worker makes the same keys in its own order, racing the others to create each.
  const order = keys
    .map((key, i) => [key, (i * 2654435761 + id * 40503) % 4294967296])
    .sort((a, b) => a[1] - b[1])
    .map(([key]) => key);
  barrier();
  for (const key of order) box.get(key, policy);
  // Then one success per key per worker, counted in whichever slot the key names here.
  for (const key of order) {
    const breaker = box.get(key);
    breaker.accept(breaker.tryAcquire());
  }
  return { made: order.length };
}

function grow() {
  // Makes new keys (the memory grows many times) while settling calls on hot keys the main thread made.
  const hot = keys.map((key) => box.get(key));
  const issued = keys.map(() => 0);
  barrier();
  for (let i = 0; i < n; i++) {
    const breaker = box.get(`w${id}-${i}`, policy);
    breaker.accept(breaker.tryAcquire());
    for (let j = 0; j < hot.length; j++) {
      const token = hot[j].tryAcquire();
      if (token !== 0) {
        hot[j].accept(token);
        issued[j]++;
      }
    }
  }
  return { issued, bytes: box.bytesUsed };
}

/** Settles failures on one key without end, mostly inside the core under the slot's lock, until terminated. */
function hammer() {
  const breaker = box.get(keys[0], policy);
  Atomics.add(new Int32Array(start), 1, 1); // attached: the main thread may terminate it any time now
  for (;;) breaker.reject(breaker.tryAcquire());
}

const run = { counts, transitions, create, grow, hammer }[scenario];
parentPort.postMessage(run());
