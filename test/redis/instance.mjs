// One instance of a gateway, in its own process, for the multi-instance cluster tests and the
// cluster bench: a box (joined to a cluster on a real redis-server, or alone) in front of an
// upstream that fails every call. It waits for "go" on stdin, calls every `everyMs` until its
// breaker has refused `stopAfter` calls in a row (or `maxMs` passed), and prints what it saw.
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { BreakerBox } from "../../dist/index.js";
import { joinCluster } from "../../dist/redis.js";

const options = JSON.parse(process.argv[2]);
const { port, name, joined, engine = "js", everyMs = 10, stopAfter = 20, maxMs = 5000 } = options;
const { threshold = 20, syncMs = 50 } = options;
const box = new BreakerBox({ engine, trip: { consecutiveFailures: threshold }, openMs: 60_000 });
const redis = joined ? new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 1 }) : undefined;
redis?.on("error", () => {});
const cluster = joined ? joinCluster(box, { redis, name, syncMs }) : undefined;
let upstreamCalls = 0;
const upstream = async () => {
  upstreamCalls++;
  throw new Error("503 from the upstream");
};

const lines = createInterface({ input: process.stdin });
console.log(JSON.stringify({ ready: true }));
for await (const line of lines) if (line.trim() === "go") break;
const started = Date.now();
let refusedInARow = 0;
let firstRefusalMs = -1;
while (refusedInARow < stopAfter && Date.now() - started < maxMs) {
  try {
    await box.do("api", upstream);
  } catch (error) {
    if (error?.name === "BreakerOpenError") {
      refusedInARow++;
      if (firstRefusalMs < 0) firstRefusalMs = Date.now() - started;
    } else refusedInARow = 0;
  }
  await new Promise((resolve) => setTimeout(resolve, everyMs));
}
await cluster?.close();
redis?.disconnect();
console.log(JSON.stringify({ upstreamCalls, firstRefusalMs, state: box.get("api").state }));
process.exit(0);
