// The shared page: one SharedBreakerBox in the page and two Web Workers, on both engines. Served
// cross-origin isolated (COOP + COEP), as shared memory needs in a browser.
import { SharedBreakerBox, sharedMemoryAvailable } from "/dist/shared.js";

async function run(engine) {
  const box = new SharedBreakerBox({ engine, maxKeys: 64 });
  box.get("api", { trip: { consecutiveFailures: 1000 } });
  const n = 20000;
  const workers = [0, 1].map(() => new Worker("/test/shared-worker.js", { type: "module" }));
  const answers = await Promise.all(
    workers.map(
      (worker, id) =>
        new Promise((resolve, reject) => {
          worker.onmessage = (event) => resolve(event.data);
          worker.onerror = (event) => reject(new Error(event.message));
          worker.postMessage({ handle: box.share(), id, n });
        }),
    ),
  );
  for (const worker of workers) worker.terminate();
  const counts = box.get("api").counts;
  return {
    engine: box.engine,
    successes: counts.successes,
    failures: counts.failures,
    issuedSuccesses: answers.reduce((sum, a) => sum + a.successes, 0),
    issuedFailures: answers.reduce((sum, a) => sum + a.failures, 0),
    size: box.size,
    own: [0, 1].map((id) => box.get(`worker-${id}`).stats().successes),
  };
}

const result = { isolated: globalThis.crossOriginIsolated, available: sharedMemoryAvailable() };
try {
  result.wasm = await run("wasm");
  result.js = await run("js");
} catch (error) {
  result.error = String(error);
}
window.result = result;
