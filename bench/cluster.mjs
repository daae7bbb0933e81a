// The cluster figures of issue 18, against a real redis-server started here on a free port:
//   1. 10 gateway instances (child processes) and a hard outage: upstream calls until every
//      instance refuses, alone vs joined;
//   2. probes reaching a healing upstream per open period, alone vs joined (10 boxes here);
//   3. Redis commands per second per instance at 1,000 and 100,000 calls/s;
//   4. a gobreaker-v2-style breaker (a Redis lock, a read and a write around every call) beside
//      joinCluster: round trips and added latency per call.
// Prints the tables and writes them into bench/RESULTS.md between <!-- cluster:start/end -->.
// Usage: npm run bench:cluster [-- --quick]

import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { BreakerBox } from "../dist/index.js";
import { joinCluster } from "../dist/redis.js";
import { haveRedisServer, startRedisServer } from "./redis-server.mjs";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const quick = args.quick;
if (!haveRedisServer) {
  console.log("bench:cluster skipped: no redis-server here (apt-get install redis-server)");
  process.exit(process.env.CI ? 1 : 0);
}
const server = await startRedisServer();
const lines = [];
const out = (line = "") => {
  lines.push(line);
  console.log(line);
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const clients = [];
const client = () => {
  const redis = new Redis({ port: server.port, host: "127.0.0.1", maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  clients.push(redis);
  return redis;
};

// ── 1. A hard outage seen by 10 instances ───────────────────────────────────────────────────────
async function outage(n, joined, name, syncMs = 50) {
  const script = new URL("../test/redis/instance.mjs", import.meta.url).pathname;
  const options = { port: server.port, name, joined, threshold: 20, everyMs: 10, syncMs };
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, [script, JSON.stringify(options)], {
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const results = children.map((child) => {
    const seen = [];
    const lines = createInterface({ input: child.stdout });
    const ready = new Promise((resolve) =>
      lines.on("line", (line) => {
        const message = JSON.parse(line);
        if (message.ready) resolve();
        else seen.push(message);
      }),
    );
    return { child, ready, done: new Promise((r) => child.once("exit", r)), seen };
  });
  await Promise.all(results.map((r) => r.ready));
  for (const { child } of results) child.stdin.write("go\n");
  await Promise.all(results.map((r) => r.done));
  const each = results.map((r) => r.seen[0]);
  return {
    calls: each.reduce((sum, x) => sum + x.upstreamCalls, 0),
    lastRefusalMs: Math.max(...each.map((x) => x.firstRefusalMs)),
  };
}
const instances = quick ? 4 : 10;
const alone = await outage(instances, false, "bench-alone");
const joined = await outage(instances, true, "bench-joined");
const joinedFast = await outage(instances, true, "bench-joined-20", 20);
out("<!-- cluster:start -->");
out("## Cluster: breakerbox/redis against a real redis-server");
out();
out(`Redis ${server.version}, one server on 127.0.0.1; every instance its own ioredis client.`);
out();
out(
  `### 1. ${instances} instances, a hard outage (every upstream call fails; 100 calls/s per instance; trip: 20 consecutive failures)`,
);
out();
out("| | upstream calls until every instance refuses | last instance's first refusal |");
out("|---|---|---|");
out(`| alone | ${alone.calls} | ${alone.lastRefusalMs} ms |`);
out(
  `| joined, syncMs 50 | ${joined.calls} (${(joined.calls / alone.calls).toFixed(2)} of alone; goal ≤ 0.20) | ${joined.lastRefusalMs} ms |`,
);
out(
  `| joined, syncMs 20 | ${joinedFast.calls} (${(joinedFast.calls / alone.calls).toFixed(2)} of alone) | ${joinedFast.lastRefusalMs} ms |`,
);
out();
out(
  "Each instance makes a call every 10 ms, so a sync interval of 50 ms lets it make 5 more calls before it hears of the others; the cluster's 20 failures come after 2 calls each.",
);
out();

// ── 2. Probes reaching a healing upstream ───────────────────────────────────────────────────────
async function probes(joinedToo, name) {
  const openMs = 300;
  const boxes = Array.from({ length: instances }, () => {
    const box = new BreakerBox({ engine: "js", trip: { consecutiveFailures: 1 }, openMs });
    const handle = joinedToo ? joinCluster(box, { redis: client(), name, syncMs: 25 }) : undefined;
    return { box, handle };
  });
  for (const { box } of boxes) box.get("heal").reject(box.get("heal").tryAcquire());
  let count = 0;
  const ms = quick ? 1500 : 3000;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const { box } of boxes) {
      const token = box.get("heal").tryAcquire();
      if (token !== 0) {
        count++;
        box.get("heal").reject(token); // still down
      }
    }
    await sleep(5);
  }
  for (const { handle } of boxes) await handle?.close();
  return count / (ms / openMs);
}
const probesAlone = await probes(false, "probes-alone");
const probesJoined = await probes(true, "probes-joined");
out(
  `### 2. Probes reaching a healing upstream, per open period (${instances} instances, openMs 300, halfOpenMaxCalls 1)`,
);
out();
out("| alone | joined (goal ≤ 1) |");
out("|---|---|");
out(`| ${probesAlone.toFixed(1)} | ${probesJoined.toFixed(1)} |`);
out();

// ── 3. Redis commands per second per instance ───────────────────────────────────────────────────
async function commandsPerSecond(callsPerSecond) {
  const redis = client();
  const box = new BreakerBox({ engine: "wasm" });
  const handle = joinCluster(box, { redis: client(), name: `rate-${callsPerSecond}`, syncMs: 100 });
  const keys = Array.from({ length: 20 }, (_, i) => `upstream-${i}`);
  // Round trips: the scripts this instance runs (EVALSHA, or EVAL once after a flush); and the
  // commands those scripts run inside Redis.
  const stats = async () => {
    const info = await redis.info("commandstats");
    const calls = (name) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    const total = Number(/total_commands_processed:(\d+)/.exec(await redis.info("stats"))[1]);
    return { trips: calls("evalsha") + calls("eval"), total };
  };
  const seconds = quick ? 1 : 3;
  const before = await stats();
  const started = Date.now();
  let made = 0;
  while (Date.now() - started < seconds * 1000) {
    const due = ((Date.now() - started) / 1000) * callsPerSecond;
    for (; made < due; made++) {
      const breaker = box.get(keys[made % keys.length]);
      breaker.accept(breaker.tryAcquire());
    }
    await sleep(1);
  }
  const after = await stats();
  await handle.close();
  return {
    trips: (after.trips - before.trips) / seconds,
    commands: (after.total - before.total - 4) / seconds, // less this function's four INFOs
  };
}
const at1k = await commandsPerSecond(1_000);
const at100k = await commandsPerSecond(100_000);
out("### 3. Redis round trips (scripts) per second per instance (20 busy keys, syncMs 100)");
out();
out("| | 1,000 calls/s | 100,000 calls/s | ratio (goal within 10 %) |");
out("|---|---|---|---|");
out(
  `| round trips (one script each) | ${at1k.trips.toFixed(1)} | ${at100k.trips.toFixed(1)} | ${(at100k.trips / at1k.trips).toFixed(2)} |`,
);
out(
  `| commands, those the scripts run included | ${at1k.commands.toFixed(0)} | ${at100k.commands.toFixed(0)} | ${(at100k.commands / at1k.commands).toFixed(2)} |`,
);
out();

// ── 4. A lock per call (gobreaker v2's DistributedCircuitBreaker) beside joinCluster ────────────
async function lockPerCall(n) {
  const redis = client();
  const times = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    // Lock, read the state, (the call), write the counts, unlock: what a shared-state-per-call
    // breaker does around every call.
    while ((await redis.set("gobreaker:lock", "me", "PX", 1000, "NX")) !== "OK") await sleep(0);
    await redis.get("gobreaker:state");
    await redis.set("gobreaker:state", String(i));
    await redis.del("gobreaker:lock");
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}
function localCalls(n) {
  const box = new BreakerBox({ engine: "wasm" });
  const handle = joinCluster(box, { redis: client(), name: "latency", syncMs: 100 });
  const breaker = box.get("upstream");
  const times = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    breaker.accept(breaker.tryAcquire());
    times.push(performance.now() - started);
  }
  return { times: times.sort((a, b) => a - b), handle };
}
const n = quick ? 2_000 : 20_000;
const locked = await lockPerCall(n);
const local = localCalls(n);
await local.handle.close();
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const us = (ms) => `${(ms * 1000).toFixed(ms < 0.001 ? 2 : 1)} µs`;
out("### 4. Added latency per call: a lock per call (gobreaker v2 style) vs joinCluster");
out();
out("| | round trips per call | p50 | p99 |");
out("|---|---|---|---|");
out(
  `| lock, read, write, unlock on every call | 4 | ${us(pct(locked, 0.5))} | ${us(pct(locked, 0.99))} |`,
);
out(
  `| joinCluster (tryAcquire + accept) | 0 | ${us(pct(local.times, 0.5))} | ${us(pct(local.times, 0.99))} |`,
);
out();
// ── 5. The hot path of a joined box beside the same box alone ──────────────────────────────────
async function hotPath() {
  const make = (joinedToo) => {
    const box = new BreakerBox({ engine: "wasm" });
    const handle = joinedToo
      ? joinCluster(box, { redis: client(), name: "hot", syncMs: 100 })
      : undefined;
    return { breaker: box.get("upstream"), handle };
  };
  const subjects = { alone: make(false), joined: make(true) };
  const samples = { alone: [], joined: [] };
  const calls = quick ? 200_000 : 2_000_000;
  for (let round = 0; round < (quick ? 3 : 9); round++) {
    for (const name of round % 2 ? ["alone", "joined"] : ["joined", "alone"]) {
      const { breaker } = subjects[name];
      const started = performance.now();
      for (let i = 0; i < calls; i++) breaker.accept(breaker.tryAcquire());
      samples[name].push(((performance.now() - started) * 1e6) / calls);
      await sleep(20); // lets the joined box's syncs run between rounds, as they would
    }
  }
  await subjects.joined.handle.close();
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return { alone: median(samples.alone), joined: median(samples.joined) };
}
const hot = await hotPath();
out(
  "### 5. The hot path: tryAcquire + accept in a joined box and in the same box alone (interleaved rounds, medians)",
);
out();
out("| alone | joined | joined / alone (goal ≤ 1.2×) |");
out("|---|---|---|");
out(
  `| ${hot.alone.toFixed(1)} ns | ${hot.joined.toFixed(1)} ns | ${(hot.joined / hot.alone).toFixed(2)}× |`,
);
out();
out("Reproduce: `npm run bench:cluster` (writes this block).");
out("<!-- cluster:end -->");

for (const redis of clients) redis.disconnect();
await server.stop();
if (!quick) {
  const url = new URL("./RESULTS.md", import.meta.url);
  const text = existsSync(url) ? readFileSync(url, "utf8") : "# Benchmark results\n";
  const block = `${lines.join("\n")}\n`;
  const kept = text.replace(/\n?<!-- cluster:start -->[\s\S]*<!-- cluster:end -->\n?/, "\n");
  writeFileSync(url, `${kept.trimEnd()}\n\n${block}`);
  console.log("\nwrote the cluster block of bench/RESULTS.md");
}
