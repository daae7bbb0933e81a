// npm run soak: a bounded long run. 100,000,000 operations over 10,000 keys with churn (keys deleted
// and created all along, a tenth of the calls failing, time moving) and 1,000 tokens lost along the
// way (never settled), printing the JS heap, the typed arrays (the permit table among them), the
// box's core memory and its outstanding tokens every 10,000,000 operations: all must stay flat.
// Not part of `npm test`. The box has maxKeys 10,000, so each new generation of names evicts the
// old one.
//   node --expose-gc bench/soak.mjs [--ops N] [--engine wasm|js]
import { parseArgs } from "node:util";
import { build } from "esbuild";

const outfile = new URL("./out/soak-lib.mjs", import.meta.url).pathname;
await build({
  entryPoints: [new URL("../src/index.ts", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outfile,
  logLevel: "warning",
});
const { BreakerBox } = await import(outfile);

const { values } = parseArgs({
  options: {
    ops: { type: "string", default: "100000000" },
    engine: { type: "string", default: "wasm" },
  },
  strict: true,
});
const ops = Number(values.ops);
const engine = values.engine;
if (!Number.isInteger(ops) || ops < 1)
  throw new RangeError(`--ops must be an integer ≥ 1, got ${values.ops}`);
if (engine !== "wasm" && engine !== "js")
  throw new RangeError(`--engine must be wasm or js, got ${engine}`);
const LOSE_EVERY = Math.max(1, Math.floor(ops / 1000)); // 1,000 tokens lost over the run
const KEYS = 10_000;
let now = 0;
const box = new BreakerBox({ engine, now: () => now, seed: 1, maxKeys: KEYS });
let generation = 0;
const key = (i) => `route-${generation}-${i}`;
let seed = 7;
const random = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
const gc = globalThis.gc ?? (() => {});
const mb = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`;
const started = performance.now();
const report = (done) => {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  const { outstanding, expired } = box.tokens;
  console.log(
    `${String(done).padStart(11)} ops  heap ${mb(heapUsed).padStart(9)}  typed arrays ${mb(arrayBuffers).padStart(8)}  ` +
      `core ${mb(box.bytesUsed).padStart(8)}  breakers ${box.size}  tokens out ${outstanding} (reclaimed ${expired})  ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
};
console.log(`soak: ${ops} operations over ${KEYS} keys with churn, ${engine} engine`);
report(0);
for (let done = 1; done <= ops; done++) {
  if (done % 1000 === 0) now += 1; // 1 ms of virtual time per 1000 calls
  if (done % 1_000_000 === 0) generation++; // churn: a new generation of key names now and then,
  if (done % 1_000 === 0) box.delete(key(Math.floor(random() * KEYS))); // and keys deleted all along
  const breaker = box.get(key(Math.floor(random() * KEYS)));
  const token = breaker.tryAcquire();
  if (token !== 0 && done % LOSE_EVERY !== 0) {
    if (random() < 0.1) breaker.reject(token, "boom");
    else breaker.accept(token);
  }
  if (done % 10_000_000 === 0 || done === ops) report(done);
}
