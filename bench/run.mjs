// npm run bench: every workload on both breakerbox engines and on the incumbents, in one run.
// Each subject's timed workloads run in a child process of their own, so no subject's code shapes
// the JIT state another is measured in (sharing one process made whichever ran first up to 1.8×
// slower on the very same code). Prints medians and ratios, writes bench/RESULTS.md, and puts the
// same tables in README.md.
// Figures, not verdicts: nothing here passes or fails on a timer.
//   node --expose-gc bench/run.mjs           full run (a few minutes)
//   node --expose-gc bench/run.mjs --quick   smoke run: tiny samples, nothing written
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { build } from "esbuild";
import { Bench } from "tinybench";

const quick = process.argv.includes("--quick");
// `--as NAME` writes bench/RESULTS-NAME.md and the README section between <!-- bench-NAME:start/end -->.
const as = process.argv.includes("--as") ? process.argv[process.argv.indexOf("--as") + 1] : "";
const subject = process.argv.includes("--subject")
  ? process.argv[process.argv.indexOf("--subject") + 1]
  : "";
const outfile = new URL("./out/workloads.mjs", import.meta.url).pathname;
if (subject === "") {
  await build({
    entryPoints: [new URL("./workloads.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    logLevel: "warning",
    external: ["cockatiel", "opossum"],
  });
  await build({
    entryPoints: [new URL("./thread-worker.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile: outfile.replace("workloads.mjs", "thread-worker.mjs"),
    logLevel: "warning",
  });
}
const w = await import(outfile);
const gc = globalThis.gc ?? (() => {});
if (!globalThis.gc) console.warn("run with --expose-gc for heap figures");

// ── Timed workloads: one child process per subject ─────────────────────────────────────────────
if (subject !== "") {
  const bench = new Bench({ time: quick ? 15 : 700, warmupTime: quick ? 5 : 200 });
  const tasks = new Map();
  let dispose = () => {};
  const add = (workload) => {
    tasks.set(workload.name, workload);
    bench.add(workload.name, workload.run);
  };
  if (subject === "wasm" || subject === "js") {
    w.breakerboxWorkloads(subject).forEach(add);
    w.sweepWorkloads(subject, quick ? 10_000 : 100_000).forEach(add);
  } else {
    const made = w.incumbentWorkloads(subject);
    made.workloads.forEach(add);
    dispose = made.dispose;
  }
  await bench.run();
  dispose();
  const out = [];
  for (const task of bench.tasks) {
    if (task.result.state !== "completed") {
      console.error(`${task.name} [${subject}]: ${task.result.state}`, task.result.error ?? "");
      continue;
    }
    const { latency } = task.result;
    const { ops } = tasks.get(task.name);
    out.push([
      `${task.name}|${subject}`,
      {
        ns: (latency.p50 * 1e6) / ops,
        spread: latency.p50 > 0 ? (latency.mad / latency.p50) * 100 : 0,
      },
    ]);
  }
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

const subjects = ["wasm", "js", "floor", ...w.INCUMBENTS];
const result = new Map();
const names = [];
for (const s of subjects) {
  const args = [
    ...process.execArgv,
    new URL(import.meta.url).pathname,
    "--subject",
    s,
    ...(quick ? ["--quick"] : []),
  ];
  const entries = JSON.parse(
    execFileSync(process.execPath, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 24,
    }),
  );
  for (const [id, value] of entries) {
    result.set(id, value);
    const name = id.slice(0, id.lastIndexOf("|"));
    if (!names.includes(name)) names.push(name);
  }
}
const ns = (name, subject) => result.get(`${name}|${subject}`)?.ns;
const fmt = (x) =>
  x === undefined ? "—" : x >= 1000 ? x.toFixed(0) : x >= 100 ? x.toFixed(0) : x.toFixed(1);
const cell = (name, subject) => {
  const r = result.get(`${name}|${subject}`);
  return r === undefined ? "—" : `${fmt(r.ns)} ±${r.spread.toFixed(0)}%`;
};
const ratio = (a, b) => (a === undefined || b === undefined ? "—" : `${(a / b).toFixed(2)}×`);

const lines = [];
const out = (line = "") => {
  lines.push(line);
  console.log(line);
};
const cpu = cpus()[0]?.model ?? "unknown CPU";
out(
  `Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · Node ${process.version} · ${cpu} × ${cpus().length} · \`npm run bench\``,
);
out();
out(
  "ns per operation: median of the samples (each sample runs 10,000 synchronous or 1,000 awaited operations; a sweep counts one operation per breaker) ± median absolute deviation. Lower is better.",
);
out();
out(
  "| workload | breakerbox wasm | breakerbox js | wasm/js | cockatiel 3.2 | opossum 9 | opossum, timeout off | no breaker | best breakerbox vs cockatiel | vs opossum |",
);
out("|---|---|---|---|---|---|---|---|---|---|");
for (const name of names) {
  const best = Math.min(ns(name, "wasm") ?? Infinity, ns(name, "js") ?? Infinity);
  out(
    `| ${name} | ${cell(name, "wasm")} | ${cell(name, "js")} | ${ratio(ns(name, "wasm"), ns(name, "js"))} | ` +
      `${cell(name, "cockatiel")} | ${cell(name, "opossum")} | ${cell(name, "opossum (timeout off)")} | ${cell(name, "floor")} | ` +
      `${ratio(ns(name, "cockatiel"), best)} | ${ratio(ns(name, "opossum"), best)} |`,
  );
}
out();
out(
  "The incumbents have no synchronous API, so rows 1 and the synchronous rows of 3 and 4 are breakerbox only. " +
    "Ratios in the last two columns are the incumbent's time over breakerbox's: above 1× means breakerbox is faster. " +
    "opossum's keyed row is left out: each opossum breaker holds two timers (see idle CPU below).",
);
const floor = ns("2 await do(asyncFn)", "floor");
const best2 = Math.min(ns("2 await do(asyncFn)", "wasm"), ns("2 await do(asyncFn)", "js"));
out(`Awaited do() is ${(best2 / floor).toFixed(2)}× the \`await fn()\` floor.`);
out();

// ── Shared boxes ──────────────────────────────────────────────────────────────────────────────
out(
  "A box shared by threads (`SharedBreakerBox`), used by one thread: a success on an adaptive breaker in the current bucket or a closed " +
    "three-state one is one compare-and-swap on the slot's lock word; every other settlement goes to the core under the slot's lock. " +
    "ns per operation, and the cost over the same operation on a box of one thread (rows 1 and 4 above):",
);
out();
out(
  "| workload | shared wasm | shared js | wasm/js | shared/unshared, wasm | shared/unshared, js |",
);
out("|---|---|---|---|---|---|");
for (const [sharedName, plainName] of w.SHARED_PAIRS) {
  out(
    `| ${sharedName} | ${cell(sharedName, "wasm")} | ${cell(sharedName, "js")} | ${ratio(ns(sharedName, "wasm"), ns(sharedName, "js"))} | ` +
      `${ratio(ns(sharedName, "wasm"), ns(plainName, "wasm"))} | ${ratio(ns(sharedName, "js"), ns(plainName, "js"))} |`,
  );
}
out();
{
  const BATCH = 64;
  const ops = quick ? 200_000 : 4_000_000;
  const rows = [];
  for (const engine of ["wasm", "js"]) {
    // Paired: each round times 1 then 2 workers back to back, so a ratio is taken within one stretch
    // of this shared machine's weather; the table gives the medians of the throughputs and of the ratios.
    const paired = async (shared, batch = 1) => {
      const ones = [];
      const twos = [];
      const ratios = [];
      for (let i = 0; i < (quick ? 1 : 7); i++) {
        const one = await w.threadThroughput(engine, 1, ops, shared, batch);
        const two = await w.threadThroughput(engine, 2, ops, shared, batch);
        ones.push(one);
        twos.push(two);
        ratios.push(two / one);
      }
      const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
      return [median(ones), median(twos), median(ratios)];
    };
    const [one, two, ratio] = await paired(true);
    const [oneBatched, twoBatched, ratioBatched] = await paired(true, BATCH);
    const [oneApart, apart, ratioApart] = await paired(false);
    const mps = (x) => `${(x / 1e6).toFixed(2)} M/s`;
    rows.push(
      `| ${engine} | ${mps(one)} | ${mps(two)} | ${ratio.toFixed(2)}× | ${mps(oneBatched)} | ${mps(twoBatched)} | ` +
        `${ratioBatched.toFixed(2)}× | ${mps(oneApart)} | ${mps(apart)} | ${ratioApart.toFixed(2)}× |`,
    );
  }
  out(
    `Worker threads, each doing ${ops.toLocaleString("en")} tryAcquire + accept pairs round-robin over the same 4 keys of one shared box ` +
      `(operations per second over the wall time; medians of ${quick ? 1 : 7} rounds, each timing 1 then 2 workers; ${cpus().length} cores):`,
  );
  out();
  out(
    `| engine | 1 worker | 2 workers, same keys | 2 / 1 | successBatch ${BATCH}: 1 worker | 2 workers | 2 / 1 | no sharing (a box each): 1 worker | 2 workers | 2 / 1 |`,
  );
  out("|---|---|---|---|---|---|---|---|---|---|");
  for (const row of rows) out(row);
  out();
}

// ── Creation, memory, idle CPU ─────────────────────────────────────────────────────────────────
out(
  "| breakers created | subject | policy | time | core memory / breaker | JS heap / breaker | idle CPU holding them |",
);
out("|---|---|---|---|---|---|---|");
const idleMs = quick ? 200 : 5000;
const [adaptive, consecutive, ratioPolicy] = Object.keys(w.POLICIES);
const plan = quick
  ? [
      [10_000, "wasm", adaptive],
      [10_000, "js", adaptive],
      [10_000, "wasm", consecutive],
      [10_000, "wasm", ratioPolicy],
      [2_000, "cockatiel"],
      [2_000, "opossum"],
    ]
  : [
      [100_000, "wasm", adaptive],
      [100_000, "js", adaptive],
      [100_000, "wasm", consecutive],
      [100_000, "js", consecutive],
      [100_000, "wasm", ratioPolicy],
      [100_000, "cockatiel"],
      [100_000, "opossum"],
      [1_000_000, "wasm", adaptive],
      [1_000_000, "js", adaptive],
      [1_000_000, "wasm", consecutive],
      [1_000_000, "cockatiel"],
    ];
for (const [count, subject, policy] of plan) {
  const r = await w.creation(
    subject,
    count,
    gc,
    count <= 100_000 && policy !== consecutive && policy !== ratioPolicy ? idleMs : 0,
    policy,
  );
  const ours = subject === "wasm" || subject === "js";
  const label = ours ? `breakerbox ${subject}` : subject;
  const policyLabel = ours
    ? policy
    : subject === "cockatiel"
      ? "consecutive failures"
      : "opossum's rolling window";
  out(
    `| ${count.toLocaleString("en")} | ${label} | ${policyLabel} | ${r.ms.toFixed(0)} ms | ${ours ? `${r.coreBytes.toFixed(0)} B` : "—"} | ` +
      `${r.heapBytes.toFixed(0)} B | ${r.idleCpu === undefined ? "—" : `${(r.idleCpu * 100).toFixed(1)} %`} |`,
  );
  gc();
}
out();
out("Core memory per breaker is the slot; a box adds 32 KiB once for its header and policy table.");
out();
{
  const count = quick ? 20_000 : 1_000_000;
  const wasm = w.timeSweeps("wasm", count);
  gc();
  const js = w.timeSweeps("js", count);
  gc();
  out(
    `Sweeps over ${count.toLocaleString("en")} breakers, one run each: box.dropping() ${wasm.dropping.toFixed(0)} ms (wasm) / ` +
      `${js.dropping.toFixed(0)} ms (js); box.forEachStats() ${wasm.stats.toFixed(0)} ms / ${js.stats.toFixed(0)} ms.`,
  );
  out();
}
const calls = quick ? 1e5 : 2e7;
out(
  `Default clock: one real clock read per ${w.callsPerClockRead(calls).toFixed(0)} calls over ${calls.toLocaleString("en")} allow+accept pairs in one synchronous loop.`,
);

if (!quick) {
  const text = lines.join("\n");
  const suffix = as ? `-${as}` : "";
  writeFileSync(
    new URL(`./RESULTS${suffix}.md`, import.meta.url),
    `# Benchmark results${as ? ` (${as})` : ""}\n\n${text}\n`,
  );
  const readmeUrl = new URL("../README.md", import.meta.url);
  const readme = readFileSync(readmeUrl, "utf8");
  const start = `<!-- bench${suffix}:start -->`;
  const end = `<!-- bench${suffix}:end -->`;
  if (readme.includes(start) && readme.includes(end)) {
    const before = readme.slice(0, readme.indexOf(start) + start.length);
    const after = readme.slice(readme.indexOf(end));
    writeFileSync(readmeUrl, `${before}\n${text}\n${after}`);
  }
  console.log(`\nwrote bench/RESULTS${suffix}.md and the tables in README.md`);
}
