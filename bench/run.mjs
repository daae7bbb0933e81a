// npm run bench: every workload on both engines in one process, medians and ratios.
// Figures, not verdicts: nothing here passes or fails on a timer.
import { build } from "esbuild";
import { Bench } from "tinybench";
import { cpus } from "node:os";

const outfile = new URL("./out/workloads.mjs", import.meta.url).pathname;
await build({
  entryPoints: [new URL("./workloads.ts", import.meta.url).pathname],
  bundle: true, format: "esm", platform: "node", target: "node20", outfile, logLevel: "warning",
});
const { workloads, creation, callsPerClockRead, OPS } = await import(outfile);

const quick = process.argv.includes("--quick");
const gc = globalThis.gc ?? (() => {});
const bench = new Bench({ time: quick ? 20 : 600, warmupTime: quick ? 10 : 200 });
const tasks = [];
for (const engine of ["wasm", "js"]) {
  for (const w of workloads(engine)) {
    const label = `${w.name} [${engine}]`;
    bench.add(label, w.run);
    tasks.push({ label, name: w.name, engine });
  }
}
await bench.run();

const rows = new Map();
for (const task of bench.tasks) {
  const { latency } = task.result;
  rows.set(task.name, { ns: (latency.p50 * 1e6) / OPS, spread: latency.p50 > 0 ? (latency.mad / latency.p50) * 100 : 0 });
}
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
console.log(`\nbreakerbox bench — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus()[0]?.model ?? "?"}`);
console.log(`ns per operation, median of ${quick ? "a few" : "many"} samples of ${OPS} operations (± median absolute deviation)\n`);
const names = [...new Set(tasks.map((t) => t.name))];
const width = Math.max(...names.map((n) => n.length));
console.log(`${"workload".padEnd(width)} | ${"wasm ns/op".padStart(14)} | ${"js ns/op".padStart(14)} | wasm/js`);
console.log(`${"-".repeat(width)}-|-${"-".repeat(14)}-|-${"-".repeat(14)}-|--------`);
for (const name of names) {
  const w = rows.get(`${name} [wasm]`);
  const j = rows.get(`${name} [js]`);
  const cell = (r) => `${fmt(r.ns)} ±${r.spread.toFixed(0)}%`.padStart(14);
  console.log(`${name.padEnd(width)} | ${cell(w)} | ${cell(j)} | ${(w.ns / j.ns).toFixed(2)}`);
}

console.log("\nCreating keyed breakers (default adaptive policy, 40 buckets):");
for (const count of quick ? [10_000] : [100_000, 1_000_000]) {
  for (const engine of ["wasm", "js"]) {
    const r = creation(engine, count, gc);
    console.log(`  ${String(count).padStart(9)} on ${engine.padEnd(4)}: ${r.ms.toFixed(1).padStart(7)} ms, `
      + `${r.coreBytes.toFixed(0)} B core memory + ${r.heapBytes.toFixed(0)} B JS heap per breaker`);
  }
}
const calls = quick ? 1e5 : 2e7;
console.log(`\nDefault clock: ${callsPerClockRead(calls).toFixed(0)} calls per clock read over ${calls} allow+accept pairs in one synchronous loop`);
