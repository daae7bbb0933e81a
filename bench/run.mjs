// npm run bench: every workload on both breakerbox engines and on the incumbents, in one run.
//
// Each subject's timed workloads run in a child process of their own, so no subject's code shapes
// the JIT state another is measured in; the subject "both" runs the wasm and the js workloads in
// one process, so its hot call sites see both engines (the case of an application that has both).
// Subjects are interleaved in rounds (wasm, js, both, floor, incumbents, then again), and every
// figure is the median over the rounds, with its spread: (max − min) / median over the rounds. A
// ratio is taken within each round, then its median and range are given.
//
// Writes bench/RESULTS.md (every table) and bench/RESULTS.json (the medians, which the next run
// compares itself with: "a rerun moved"), and a short summary into README.md.
// Figures, not verdicts: nothing here passes or fails on a timer.
//   node --expose-gc bench/run.mjs                full run (a few minutes)
//   node --expose-gc bench/run.mjs --quick        smoke run: one short round, nothing written
//   node --expose-gc bench/run.mjs --rounds 9     more rounds
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { Bench } from "tinybench";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    as: { type: "string", default: "" },
    subject: { type: "string", default: "" },
    rounds: { type: "string", default: "" },
  },
  strict: true,
});
const quick = args.quick;
const rounds = args.rounds === "" ? (quick ? 1 : 5) : Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new RangeError(`--rounds must be an integer ≥ 1, got ${args.rounds}`);
const outfile = new URL("./out/workloads.mjs", import.meta.url).pathname;
if (args.subject === "") {
  for (const [entry, out] of [
    ["workloads.ts", outfile],
    ["thread-worker.ts", outfile.replace("workloads.mjs", "thread-worker.mjs")],
  ]) {
    await build({
      entryPoints: [new URL(`./${entry}`, import.meta.url).pathname],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outfile: out,
      logLevel: "warning",
      external: ["cockatiel", "opossum"],
    });
  }
}
const w = await import(outfile);
const gc = globalThis.gc ?? (() => {});
if (!globalThis.gc) console.warn("run with --expose-gc for heap figures");

// ── A child: one subject's timed workloads ──────────────────────────────────────────────────────
if (args.subject !== "") {
  const subject = args.subject;
  const bench = new Bench({ time: quick ? 15 : 250, warmupTime: quick ? 5 : 60 });
  const tasks = new Map();
  let dispose = () => {};
  const add = (workload, as = workload.subject) => {
    const id = `${workload.name}|${as}`;
    tasks.set(id, workload);
    bench.add(id, workload.run);
  };
  if (subject === "wasm" || subject === "js") {
    for (const x of w.breakerboxWorkloads(subject)) add(x);
    for (const x of w.sweepWorkloads(subject, quick ? 10_000 : 100_000)) add(x);
  } else if (subject === "both") {
    // Both engines alive in one process: the synchronous rows, each engine's after the other's.
    const sync = (engine) => w.breakerboxWorkloads(engine).filter((x) => x.name.startsWith("1 "));
    for (const x of [...sync("wasm"), ...sync("js")]) add(x, `${x.subject}, both alive`);
  } else {
    const made = w.incumbentWorkloads(subject);
    for (const x of made.workloads) add(x);
    dispose = made.dispose;
  }
  await bench.run();
  dispose();
  const out = [];
  for (const task of bench.tasks) {
    if (task.result.state !== "completed") {
      console.error(`${task.name}: ${task.result.state}`, task.result.error ?? "");
      continue;
    }
    out.push([task.name, (task.result.latency.p50 * 1e6) / tasks.get(task.name).ops]);
  }
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

// ── The parent: rounds of children ──────────────────────────────────────────────────────────────
const subjects = ["wasm", "js", "both", "floor", ...w.INCUMBENTS];
/** Per "workload|subject", the ns per operation of each round. */
const samples = new Map();
const names = [];
for (let round = 0; round < rounds; round++) {
  for (const subject of subjects) {
    const self = new URL(import.meta.url).pathname;
    const argv = [...process.execArgv, self, "--subject", subject, ...(quick ? ["--quick"] : [])];
    const text = execFileSync(process.execPath, argv, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 24,
    });
    for (const [id, ns] of JSON.parse(text)) {
      if (!samples.has(id)) samples.set(id, []);
      samples.get(id).push(ns);
      const name = id.slice(0, id.lastIndexOf("|"));
      if (!names.includes(name)) names.push(name);
    }
  }
  if (!quick) console.error(`round ${round + 1} of ${rounds} done`);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ns = (name, subject) => {
  const xs = samples.get(`${name}|${subject}`);
  return xs === undefined ? undefined : median(xs);
};
const fmt = (x) => (x === undefined ? "—" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const cell = (name, subject) => {
  const xs = samples.get(`${name}|${subject}`);
  if (xs === undefined) return "—";
  const m = median(xs);
  return xs.length === 1
    ? fmt(m)
    : `${fmt(m)} ±${(((Math.max(...xs) - Math.min(...xs)) / m) * 50).toFixed(0)}%`;
};
/** Median over the rounds of a / b, with its range, where `b` may be several subjects (the best). */
const ratio = (aName, aSubject, bName, bSubjects) => {
  const a = samples.get(`${aName}|${aSubject}`);
  const bs = bSubjects.map((s) => samples.get(`${bName}|${s}`)).filter(Boolean);
  if (a === undefined || bs.length === 0) return "—";
  const per = a.map((x, i) => x / Math.min(...bs.map((b) => b[i] ?? Number.POSITIVE_INFINITY)));
  const m = median(per);
  return per.length === 1
    ? `${m.toFixed(2)}×`
    : `${m.toFixed(2)}× (${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)})`;
};

const lines = [];
const out = (line = "") => {
  lines.push(line);
  console.log(line);
};
const cpu = cpus()[0]?.model ?? "unknown CPU";
const when = new Date().toISOString().slice(0, 16).replace("T", " ");
out(
  `Run ${when} UTC · Node ${process.version} · ${cpu} × ${cpus().length} · \`npm run bench\` · ${rounds} rounds`,
);
out();
out(
  "ns per operation: the median over the rounds of each round's median sample (a sample runs 10,000 " +
    "synchronous or 1,000 awaited operations; a sweep counts one operation per breaker), ± half the " +
    "range over the rounds. Ratios are taken within each round: median (min–max). Lower ns is better.",
);
out();
out(
  "| workload | wasm | js | wasm/js | wasm, both engines alive | js, both alive | cockatiel 3.2 | opossum 9 | " +
    "opossum, timeout off | no breaker | cockatiel / best breakerbox | opossum / best |",
);
out("|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const name of names) {
  if (name.startsWith("5 ")) continue; // the shared table below
  out(
    `| ${name} | ${cell(name, "wasm")} | ${cell(name, "js")} | ${ratio(name, "wasm", name, ["js"])} | ` +
      `${cell(name, "wasm, both alive")} | ${cell(name, "js, both alive")} | ${cell(name, "cockatiel")} | ` +
      `${cell(name, "opossum")} | ${cell(name, "opossum (timeout off)")} | ${cell(name, "floor")} | ` +
      `${ratio(name, "cockatiel", name, ["wasm", "js"])} | ${ratio(name, "opossum", name, ["wasm", "js"])} |`,
  );
}
out();
out(
  "The incumbents have no synchronous API, so rows 1 and the synchronous rows of 3 and 4 are breakerbox only. " +
    "In the last two columns above 1× means breakerbox is faster. opossum's keyed row is left out: each " +
    "opossum breaker holds two timers (see idle CPU below).",
);
const awaited = "2 await do(asyncFn)";
out(
  `Awaited do() is ${ratio(awaited, "js", awaited, ["floor"])} (js) and ${ratio(awaited, "wasm", awaited, ["floor"])} ` +
    "(wasm) the `await fn()` floor.",
);
out();

// ── Shared boxes ──────────────────────────────────────────────────────────────────────────────
out(
  "A box shared by threads (`SharedBreakerBox`), used by one thread: a success on an adaptive breaker in the " +
    "current bucket or a closed three-state one is one compare-and-swap on the slot's lock word; every other " +
    "settlement goes to the core under the slot's lock. The cost is over the same operation on a box of one thread:",
);
out();
out(
  "| workload | shared wasm | shared js | wasm/js | shared/unshared, wasm | shared/unshared, js |",
);
out("|---|---|---|---|---|---|");
for (const [sharedName, plainName] of w.SHARED_PAIRS) {
  out(
    `| ${sharedName} | ${cell(sharedName, "wasm")} | ${cell(sharedName, "js")} | ` +
      `${ratio(sharedName, "wasm", sharedName, ["js"])} | ${ratio(sharedName, "wasm", plainName, ["wasm"])} | ` +
      `${ratio(sharedName, "js", plainName, ["js"])} |`,
  );
}
out();
{
  const BATCH = 64;
  const ops = quick ? 200_000 : 4_000_000;
  const rows = [];
  for (const engine of ["wasm", "js"]) {
    // Paired: each round times 1 then 2 workers back to back, so a ratio is taken within one
    // stretch of this shared machine's weather.
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
      return [median(ones), median(twos), median(ratios)];
    };
    const [one, two, r] = await paired(true);
    const [oneBatched, twoBatched, rBatched] = await paired(true, BATCH);
    const [oneApart, apart, rApart] = await paired(false);
    const mps = (x) => `${(x / 1e6).toFixed(2)} M/s`;
    rows.push(
      `| ${engine} | ${mps(one)} | ${mps(two)} | ${r.toFixed(2)}× | ${mps(oneBatched)} | ${mps(twoBatched)} | ` +
        `${rBatched.toFixed(2)}× | ${mps(oneApart)} | ${mps(apart)} | ${rApart.toFixed(2)}× |`,
    );
  }
  out(
    `Worker threads, each doing ${ops.toLocaleString("en")} tryAcquire + accept pairs round-robin over the same 4 keys ` +
      `of one shared box (operations per second over the wall time; medians of ${quick ? 1 : 7} rounds, each timing ` +
      `1 then 2 workers; ${cpus().length} cores):`,
  );
  out();
  out(
    `| engine | 1 worker | 2 workers, same keys | 2 / 1 | successBatch ${BATCH}: 1 worker | 2 workers | 2 / 1 | ` +
      "no sharing (a box each): 1 worker | 2 workers | 2 / 1 |",
  );
  out("|---|---|---|---|---|---|---|---|---|---|");
  for (const row of rows) out(row);
  out();
}

// ── Creation, memory, idle CPU ─────────────────────────────────────────────────────────────────
const creations = [];
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
  const idle = count <= 100_000 && policy === adaptive ? idleMs : 0;
  const r = await w.creation(subject, count, gc, idle, policy);
  const ours = subject === "wasm" || subject === "js";
  const label = ours ? `breakerbox ${subject}` : subject;
  const policyLabel = ours
    ? policy
    : subject === "cockatiel"
      ? "consecutive failures"
      : "opossum's rolling window";
  creations.push({ count, subject, policy: policyLabel, ms: r.ms, heapBytes: r.heapBytes });
  out(
    `| ${count.toLocaleString("en")} | ${label} | ${policyLabel} | ${r.ms.toFixed(0)} ms | ` +
      `${ours ? `${r.coreBytes.toFixed(0)} B` : "—"} | ${r.heapBytes.toFixed(0)} B | ` +
      `${r.idleCpu === undefined ? "—" : `${(r.idleCpu * 100).toFixed(1)} %`} |`,
  );
  gc();
}
out();
out("Core memory per breaker is the slot; a box adds 32 KiB once for its header and policy table.");
out();
const inFlight = {};
{
  const count = quick ? 10_000 : 100_000;
  for (const engine of ["wasm", "js"]) {
    inFlight[engine] = await w.inFlight(engine, count, gc, idleMs);
    gc();
  }
  out(
    `${count.toLocaleString("en")} awaited do() calls in flight with a 60 s timeout, idle over ${idleMs} ms: ` +
      `${(inFlight.wasm.idleCpu * 100).toFixed(2)} % of a core (wasm) / ${(inFlight.js.idleCpu * 100).toFixed(2)} % (js); ` +
      `JS heap ${inFlight.wasm.heapBytes.toFixed(0)} B / ${inFlight.js.heapBytes.toFixed(0)} B per call in flight ` +
      "(one deadline heap and one unref'd timer per box, no timer per call).",
  );
  out();
}
const dashboardMs = {};
{
  const count = quick ? 10_000 : 100_000;
  for (const engine of ["wasm", "js"]) {
    dashboardMs[engine] = w.dashboardUpdate(engine, count);
    gc();
  }
  out(
    `A dashboard update (breakerbox/dashboard: one box.watchStats() poll, the changed rows as JSON) over ${count.toLocaleString("en")} breakers, 100 of them changed: ` +
      `${dashboardMs.wasm.toFixed(1)} ms (wasm) / ${dashboardMs.js.toFixed(1)} ms (js), median of 7 (goal ≤ 10 ms at 100,000).`,
  );
  out();
}
const sweeps = {};
{
  const count = quick ? 20_000 : 1_000_000;
  sweeps.wasm = w.timeSweeps("wasm", count);
  gc();
  sweeps.js = w.timeSweeps("js", count);
  gc();
  out(
    `Sweeps over ${count.toLocaleString("en")} breakers, one run each: box.dropping() ${sweeps.wasm.dropping.toFixed(0)} ms ` +
      `(wasm) / ${sweeps.js.dropping.toFixed(0)} ms (js); box.forEachStats() ${sweeps.wasm.stats.toFixed(0)} ms / ` +
      `${sweeps.js.stats.toFixed(0)} ms.`,
  );
  out();
}
const calls = quick ? 1e5 : 2e7;
out(
  `Default clock: one real clock read per ${w.callsPerClockRead(calls).toFixed(0)} calls over ` +
    `${calls.toLocaleString("en")} allow+accept pairs in one synchronous loop.`,
);
out();

// ── A rerun: how far the medians moved since the previous run ────────────────────────────────────
const suffix = args.as ? `-${args.as}` : "";
const jsonUrl = new URL(`./RESULTS${suffix}.json`, import.meta.url);
const medians = Object.fromEntries([...samples].map(([id, xs]) => [id, median(xs)]));
if (!quick && existsSync(jsonUrl)) {
  const before = JSON.parse(readFileSync(jsonUrl, "utf8")).medians ?? {};
  const moves = Object.keys(medians)
    .filter((id) => before[id] > 0 && id.startsWith("1 "))
    .map((id) => Math.abs(medians[id] / before[id] - 1));
  if (moves.length > 0) {
    out(
      `A rerun moved: the synchronous rows (1) moved by a median of ${(median(moves) * 100).toFixed(0)} % and at most ` +
        `${(Math.max(...moves) * 100).toFixed(0)} % since the previous run recorded in RESULTS${suffix}.json.`,
    );
    out();
  }
}

if (!quick) {
  const text = lines.join("\n");
  // The cluster figures (npm run bench:cluster) keep their block between runs of this bench.
  const resultsUrl = new URL(`./RESULTS${suffix}.md`, import.meta.url);
  const previous = existsSync(resultsUrl) ? readFileSync(resultsUrl, "utf8") : "";
  const cluster = previous.match(/<!-- cluster:start -->[\s\S]*<!-- cluster:end -->\n?/)?.[0] ?? "";
  writeFileSync(
    resultsUrl,
    `# Benchmark results${args.as ? ` (${args.as})` : ""}\n\n${text}\n${cluster ? `\n${cluster}` : ""}`,
  );
  writeFileSync(
    jsonUrl,
    `${JSON.stringify({ when, node: process.version, rounds, medians, creations, sweeps }, null, 1)}\n`,
  );
  // The README carries a short summary; the full tables stay in bench/RESULTS.md.
  const pair = "1 sync: tryAcquire + accept (zero-allocation)";
  const pairTs = "1 sync: three-state, consecutive failures: tryAcquire + accept";
  const keyed = "4 10k keys: get(randomKey) + tryAcquire + accept";
  const best = (name) =>
    Math.min(
      ns(name, "wasm") ?? Number.POSITIVE_INFINITY,
      ns(name, "js") ?? Number.POSITIVE_INFINITY,
    );
  const created = (count, subject) =>
    creations.find(
      (c) => c.count === count && c.subject === subject && !c.policy.startsWith("three"),
    );
  const summary = [
    `Run ${when} UTC, Node ${process.version}, ${rounds} rounds (full tables: [bench/RESULTS${suffix}.md](bench/RESULTS${suffix}.md)).`,
    "",
    "| figure | breakerbox | incumbent |",
    "|---|---|---|",
    `| tryAcquire + accept, adaptive / three-state (ns per pair, faster engine) | ${fmt(best(pair))} / ${fmt(best(pairTs))} | — |`,
    `| the same, both engines alive in one process (wasm / js) | ${fmt(ns(pair, "wasm, both alive"))} / ${fmt(ns(pair, "js, both alive"))} | — |`,
    `| 10k random keys: get + tryAcquire + accept (ns) | ${fmt(best(keyed))} | — |`,
    `| await do(asyncFn) (ns) | ${fmt(best(awaited))} | cockatiel ${fmt(ns(awaited, "cockatiel"))}, opossum ${fmt(ns(awaited, "opossum"))} |`,
    `| await do(asyncFn) with a 1 s timeout (ns) | ${fmt(best(w.TIMEOUT_ROW))} | cockatiel wrap(timeout) ${fmt(ns(w.TIMEOUT_ROW, "cockatiel"))}, opossum ${fmt(ns(w.TIMEOUT_ROW, "opossum"))} |`,
    `| the same, fn reads its signal (ns) | ${fmt(best(`${w.TIMEOUT_ROW}, fn reads its signal`))} | cockatiel ${fmt(ns(`${w.TIMEOUT_ROW}, fn reads its signal`, "cockatiel"))} |`,
    `| create 100,000 keyed breakers (ms, adaptive, wasm) | ${created(100_000, "wasm")?.ms.toFixed(0) ?? "—"} | cockatiel ${created(100_000, "cockatiel")?.ms.toFixed(0) ?? "—"} |`,
    `| JS heap per keyed breaker (B) | ${created(100_000, "wasm")?.heapBytes.toFixed(0) ?? "—"} | cockatiel ${created(100_000, "cockatiel")?.heapBytes.toFixed(0) ?? "—"} |`,
    `| box.forEachStats() over 1,000,000 breakers (ms, wasm / js) | ${sweeps.wasm.stats.toFixed(0)} / ${sweeps.js.stats.toFixed(0)} | — |`,
  ].join("\n");
  const readmeUrl = new URL("../README.md", import.meta.url);
  const readme = readFileSync(readmeUrl, "utf8");
  const start = `<!-- bench${suffix}:start -->`;
  const end = `<!-- bench${suffix}:end -->`;
  if (readme.includes(start) && readme.includes(end)) {
    const head = readme.slice(0, readme.indexOf(start) + start.length);
    writeFileSync(readmeUrl, `${head}\n${summary}\n${readme.slice(readme.indexOf(end))}`);
  }
  console.log(
    `\nwrote bench/RESULTS${suffix}.md, bench/RESULTS${suffix}.json and the summary in README.md`,
  );
}
