// npm run demo: every scenario with every policy, a table per scenario, an SVG chart per scenario.
//   node sim/demo.mjs [--out DIR] [--seed N] [--engine wasm|js] [--only NAME]
//   node sim/demo.mjs --live [--port N] [--speed X]: the scenarios live on breakerbox/dashboard

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { simulateCluster } from "./cluster.js";
import { startLive } from "./live.js";
import { POLICIES, SCENARIOS } from "./scenarios.js";
import { type Summary, simulate, summarize } from "./simulator.js";
import { chart } from "./svg.js";

// Unknown flags are errors (parseArgs strict), and so are values that make no sense.
const { values } = parseArgs({
  options: {
    out: { type: "string", default: "demo-out" },
    seed: { type: "string", default: "7" },
    engine: { type: "string", default: "wasm" },
    only: { type: "string", default: "" },
    live: { type: "boolean", default: false },
    port: { type: "string", default: "8080" },
    speed: { type: "string", default: "1" },
  },
  strict: true,
});
const out = resolve(values.out);
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
  throw new RangeError(`--seed must be an integer in [0, 2^32), got ${values.seed}`);
}
if (values.engine !== "wasm" && values.engine !== "js") {
  throw new RangeError(`--engine must be wasm or js, got ${values.engine}`);
}
const engine: "wasm" | "js" = values.engine;
const only = values.only;
const CLUSTER = "cluster-outage";
if (only !== "" && only !== CLUSTER && !SCENARIOS.some((s) => s.name === only)) {
  throw new RangeError(
    `--only must name a scenario (${[...SCENARIOS.map((s) => s.name), CLUSTER].join(", ")}), got ${only}`,
  );
}
if (values.live) {
  // The scenarios in real time on breakerbox/dashboard (sim/live.ts), until interrupted.
  const port = Number(values.port);
  const speed = Number(values.speed);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`--port must be an integer in [0, 65535], got ${values.port}`);
  if (!(speed > 0 && speed <= 100))
    throw new RangeError(`--speed must be a number in (0, 100], got ${values.speed}`);
  const live = await startLive({ port, speed, seed, engine });
  console.log(`breakerbox demo, live: open ${live.url} (Ctrl-C stops it)`);
  await new Promise(() => {}); // the server runs until the process is stopped
}
mkdirSync(out, { recursive: true });

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "never");
const results: Array<{ scenario: string; policy: string; summary: Summary }> = [];

console.log(
  `breakerbox demo: a deterministic simulation in virtual time (seed ${seed}, ${engine} engine)\n`,
);
for (const scenario of SCENARIOS.filter((s) => only === "" || s.name === only)) {
  const runs = POLICIES.map((policy) => simulate(scenario, policy, seed, 250, engine));
  console.log(`## ${scenario.title} — ${scenario.description}\n`);
  console.log(
    "| policy | backend calls/s in the fault (after 2 s) | goodput/s in the fault | slow responses/s in the fault | drops while healthy | time to recover |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const run of runs) {
    const summary = summarize(scenario, run);
    results.push({ scenario: scenario.name, policy: run.policy, summary });
    console.log(
      `| ${run.policy} | ${fmt(summary.backendDuringFault)} | ${fmt(summary.goodputDuringFault)} | ${fmt(summary.slowDuringFault)} | ` +
        `${fmt(summary.dropRateHealthy * 100, 2)} % | ${Number.isFinite(summary.recoveryMs) ? `${fmt(summary.recoveryMs / 1000, 2)} s` : "never"} |`,
    );
  }
  const file = join(out, `${scenario.name}.svg`);
  writeFileSync(file, chart(scenario, runs));
  console.log(`\nchart: ${file}\n`);
}

// A gateway of 10 instances in the hard outage, alone and joined (breakerbox/redis's protocol).
if (only === "" || only === CLUSTER) {
  const outage = SCENARIOS.find((s) => s.name === "hard-outage")!;
  const scenario = {
    ...outage,
    name: CLUSTER,
    title: "Hard outage, 10 gateway instances",
    description: `${outage.description} Ten instances share the load; each has a three-state breaker (20 consecutive failures, open 5 s), alone or joined.`,
  };
  const options = {
    engine,
    trip: { consecutiveFailures: 20 },
    openMs: 5000,
  } as const;
  const runs = [
    simulateCluster(scenario, options, 10, false, seed),
    simulateCluster(scenario, options, 10, true, seed, 100),
  ];
  console.log(`## ${scenario.title} — ${scenario.description}\n`);
  console.log(
    "| gateway | backend calls/s in the fault (after 2 s) | backend calls in the first second of the fault | time to recover |",
  );
  console.log("|---|---|---|---|");
  for (const run of runs) {
    const summary = summarize(scenario, run);
    const first = run.bins
      .slice(20_000 / run.binMs, 21_000 / run.binMs)
      .reduce((n, b) => n + b.passed, 0);
    console.log(
      `| ${run.policy} | ${fmt(summary.backendDuringFault)} | ${first} | ${Number.isFinite(summary.recoveryMs) ? `${fmt(summary.recoveryMs / 1000, 2)} s` : "never"} |`,
    );
  }
  const file = join(out, `${CLUSTER}.svg`);
  writeFileSync(file, chart(scenario, runs));
  console.log(`\nchart: ${file}\n`);
}

// The targets of the fast-recovery mode, beside go-zero's figures.
const get = (scenario: string, policy: string) =>
  results.find((r) => r.scenario === scenario && r.policy === policy)?.summary;
if (only === "") {
  const lines: Array<[string, (s: Summary) => string, (s: Summary) => boolean, string]> = [];
  const outage = "hard-outage";
  lines.push([
    outage,
    (s) => `recovers in ${fmt(s.recoveryMs / 1000, 2)} s`,
    (s) => s.recoveryMs <= 3000,
    "≤ 3 s",
  ]);
  lines.push([
    outage,
    (s) => `${fmt(s.backendDuringFault)} backend calls/s`,
    (s) => s.backendDuringFault <= 2,
    "≤ 2/s",
  ]);
  lines.push([
    "overload",
    (s) => `${fmt(s.backendDuringFault / 200, 2)}× capacity reaches the backend`,
    (s) => s.backendDuringFault <= 1.6 * 200,
    "≤ 1.6×",
  ]);
  lines.push([
    "overload",
    (s) => `goodput ${fmt(s.goodputDuringFault / 200, 2)}× capacity`,
    (s) => s.goodputDuringFault >= 0.95 * 200,
    "≥ 0.95×",
  ]);
  lines.push([
    "brownout",
    (s) => `drops ${fmt(s.dropRateHealthy * 100, 2)} % healthy`,
    () => true,
    "",
  ]);
  console.log("## Targets (adaptive policy)\n");
  console.log("| scenario | target | go-zero | fast recovery |");
  console.log("|---|---|---|---|");
  for (const [scenario, describe, meets, target] of lines) {
    const goZero = get(scenario, "adaptive, go-zero")!;
    const fast = get(scenario, "adaptive, fast recovery")!;
    const mark = (s: Summary) => `${describe(s)}${target ? (meets(s) ? " ✓" : " ✗") : ""}`;
    console.log(`| ${scenario} | ${target || "—"} | ${mark(goZero)} | ${mark(fast)} |`);
  }
  const brownout = (policy: string) => {
    const run = simulate(
      SCENARIOS.find((s) => s.name === "brownout")!,
      POLICIES.find((p) => p.name === policy)!,
      seed,
      250,
      engine,
    );
    const offered = run.bins.slice(40, 280).reduce((n, b) => n + b.offered, 0);
    const dropped = run.bins.slice(40, 280).reduce((n, b) => n + b.dropped, 0);
    return (dropped / offered) * 100;
  };
  const goZeroBrown = brownout("adaptive, go-zero");
  const fastBrown = brownout("adaptive, fast recovery");
  console.log(
    `| brownout | ≤ 1 % dropped during the 10 % fault | ${fmt(goZeroBrown, 2)} %${goZeroBrown <= 1 ? " ✓" : " ✗"} | ${fmt(fastBrown, 2)} %${fastBrown <= 1 ? " ✓" : " ✗"} |`,
  );
  console.log(`\ncharts in ${out}`);
}
