// breakerbox/redis against a real redis-server (test/redis/server.ts): instances of one gateway,
// each a box with its own client, sharing windows, open states and probe leases; and the faults:
// Redis paused, killed, restarted, flushed. Both engines.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinCluster } from "../src/adapters/redis.js";
import { BreakerBox, type BreakerBoxOptions } from "../src/index.js";
import { engines } from "./helpers.js";
import { haveRedis, type RedisServer, startRedis } from "./redis/server.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The instance's own traffic on a breaker, counted as neither: its syncs then carry the key. */
function touch(breaker: { tryAcquire(): number; exclude(token: number): void }) {
  const token = breaker.tryAcquire();
  if (token !== 0) breaker.exclude(token);
}

/** Waits until `check()` holds, up to `ms`; its last answer. */
async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(10);
  }
  return check();
}

describe.skipIf(!haveRedis).each(engines)("breakerbox/redis on the %s engine", (engine) => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const handles: { close(): Promise<void> }[] = [];
  let cluster = 0;

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const handle of handles) await handle.close();
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  const client = () => {
    const redis = new Redis({
      port: server.port,
      host: "127.0.0.1",
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    });
    redis.on("error", () => {}); // the fault tests make errors on purpose
    clients.push(redis);
    return redis;
  };

  /** `n` instances of one gateway: a box each, its own client, joined to a fresh cluster. */
  const instances = (n: number, options: BreakerBoxOptions, syncMs = 40) => {
    const name = `test-${engine}-${++cluster}`;
    return Array.from({ length: n }, () => {
      const box = new BreakerBox({ engine, ...options });
      const handle = joinCluster(box, { redis: client(), name, syncMs });
      handles.push(handle);
      return { box, handle };
    });
  };

  it("a breaker opened by one instance opens on the others within a sync, with its open time", async () => {
    const [a, b, c] = instances(3, { trip: { consecutiveFailures: 5 }, openMs: 5000 });
    for (let i = 0; i < 5; i++) a.box.get("api").reject(a.box.get("api").tryAcquire());
    expect(a.box.get("api").state).toBe("open");
    for (const other of [b, c]) {
      const breaker = other.box.get("api");
      const opened = await until(() => {
        const token = breaker.tryAcquire(); // the instance's own traffic: its syncs carry the key
        if (token !== 0) breaker.accept(token);
        return breaker.state === "open";
      });
      expect(opened).toBe(true);
      expect(Math.abs(breaker.retryAfterMs! - a.box.get("api").retryAfterMs!)).toBeLessThan(500);
    }
  });

  it("windows are the cluster's: failures at one instance make another's adaptive breaker shed", async () => {
    const [a, b] = instances(2, { seed: 1 });
    const sick = a.box.get("upstream");
    const calm = b.box.get("upstream");
    calm.accept(calm.tryAcquire());
    for (let i = 0; i < 300; i++) {
      const token = sick.tryAcquire();
      if (token !== 0) sick.reject(token);
    }
    expect(
      await until(() => {
        touch(calm);
        return calm.stats().failures >= sick.stats().failures;
      }),
    ).toBe(true);
    expect(calm.state).toBe("open"); // b saw none of those failures itself
    expect(calm.stats().failures).toBe(sick.stats().failures); // all of them, once each
  });

  it("a ratio trip is met by the cluster's calls, not any one instance's", async () => {
    const trip = { failureRatio: 0.5, minRequests: 20 };
    const group = instances(3, { trip, windowMs: 10_000 });
    for (const { box } of group) {
      const breaker = box.get("r");
      for (let i = 0; i < 8; i++) breaker.reject(breaker.tryAcquire()); // 8 each: under minRequests alone
    }
    const opened = await until(() => {
      for (const { box } of group) touch(box.get("r"));
      return group.every(({ box }) => box.get("r").state === "open");
    });
    expect(opened).toBe(true);
  });

  it("a healing backend gets one probe from the cluster per open period, not one per instance", async () => {
    const group = instances(3, { trip: { consecutiveFailures: 1 }, openMs: 400 }, 25);
    const first = group[0].box.get("heal");
    first.reject(first.tryAcquire());
    let probes = 0;
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      for (const { box } of group) {
        const breaker = box.get("heal");
        const token = breaker.tryAcquire();
        if (token !== 0) {
          probes++;
          breaker.reject(token); // still down: the probe fails
        }
      }
      await sleep(5);
    }
    // ~2.5 s / 0.4 s ≈ 6 open periods: one probe each across the cluster (isolated: three each).
    expect(probes).toBeGreaterThan(0);
    expect(probes).toBeLessThanOrEqual(12); // alone: ~18; slack for syncs that lag on a busy machine
  });

  it("any string is a key; every Redis key is under the cluster's prefix and expires", async () => {
    const [a] = instances(1, { trip: { consecutiveFailures: 1 }, openMs: 2000 });
    const odd = ["{braces}", "a:b:c", "new\nline", "ключ", "", "x".repeat(5000)];
    for (const key of odd) a.box.get(key).reject(a.box.get(key).tryAcquire());
    await until(() => a.handle.stats.syncs > 2);
    const redis = client();
    const all = await redis.keys("*");
    const mine = all.filter((key) => key.startsWith(`breakerbox:{test-${engine}-${cluster}}:`));
    expect(mine.length).toBeGreaterThan(odd.length);
    for (const key of mine) expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  it("Redis paused, killed, restarted, flushed: calls never wait or throw; down and up are told", async () => {
    const [a, b] = instances(2, { trip: { consecutiveFailures: 3 }, openMs: 1000 }, 30);
    const events: string[] = [];
    a.handle.on("cluster-down", () => events.push("down"));
    a.handle.on("cluster-up", () => events.push("up"));
    const drive = async (ms: number) => {
      let slowest = 0;
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (const { box } of [a, b]) {
          const started = performance.now();
          const breaker = box.get("f");
          const token = breaker.tryAcquire();
          if (token !== 0) breaker.accept(token);
          slowest = Math.max(slowest, performance.now() - started);
        }
        await sleep(2);
      }
      return slowest;
    };
    await drive(200);
    server.pause();
    const whilePaused = await drive(1500);
    expect(a.handle.stats.up).toBe(false);
    server.resume();
    await until(() => a.handle.stats.up, 5000);
    expect(events).toEqual(["down", "up"]);
    expect(whilePaused).toBeLessThan(200); // no call waited on the paused Redis (1.5 s): a GC pause at most
    await server.restart();
    await drive(300);
    expect(await until(() => a.handle.stats.up && b.handle.stats.up, 8000)).toBe(true);
    // A breaker that opens after the restart is shared again; a flush loses the open time, and the
    // breaker still recovers by itself.
    const breaker = a.box.get("f");
    for (let i = 0; i < 3; i++) breaker.reject(breaker.tryAcquire());
    expect(breaker.state).toBe("open");
    await client().flushall();
    await sleep(1100);
    expect(breaker.state).toBe("half-open");
  }, 30_000);

  it("manual states for the whole cluster: forceOpen, isolate, forceClose", async () => {
    const [a, b] = instances(2, { trip: { consecutiveFailures: 5 } });
    const seen = (state: string) =>
      until(() => {
        touch(b.box.get("m"));
        return b.box.get("m").state === state;
      });
    touch(b.box.get("m"));
    a.handle.forceOpen("m");
    expect(a.box.get("m").state).toBe("forced-open"); // here at once
    expect(await seen("forced-open")).toBe(true);
    a.handle.forceClose("m");
    expect(await seen("closed")).toBe(true);
    b.handle.isolate("m");
    expect(
      await until(() => {
        touch(a.box.get("m"));
        return a.box.get("m").state === "isolated";
      }),
    ).toBe(true);
    b.handle.forceClose("m");
    expect(
      await until(() => {
        touch(a.box.get("m"));
        return a.box.get("m").state === "closed";
      }),
    ).toBe(true);
    expect(() => a.handle.forceOpen(`adaptive-key-${engine}`)).not.toThrow(); // three-state box default
    const adaptiveBox = new BreakerBox({ engine });
    const alone = joinCluster(adaptiveBox, { redis: client(), name: "adaptive-manual" });
    handles.push(alone);
    expect(() => alone.forceOpen("x")).toThrow(/forceOpen\(\) needs a three-state breaker/);
  });

  it("says what is wrong with its options", () => {
    const box = new BreakerBox({ engine });
    expect(() => joinCluster(box, { redis: {} as never, name: "x" })).toThrow(
      "redis must be an ioredis or iovalkey client (evalsha and eval)",
    );
    expect(() => joinCluster(box, { redis: client(), name: "a{b}" })).toThrow(
      /name must be a non-empty string without braces/,
    );
    expect(() => joinCluster(box, { redis: client(), name: "x", syncMs: 1 })).toThrow(
      "syncMs must be an integer in [10, 3600000], got 1",
    );
  });
});

describe.skipIf(!haveRedis)("breakerbox/redis across processes", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Runs `n` instances (child processes) at once; what each saw. */
  async function run(n: number, joined: boolean, name: string) {
    const script = new URL("./redis/instance.mjs", import.meta.url).pathname;
    const children = Array.from({ length: n }, () =>
      spawn(process.execPath, [script, JSON.stringify({ port: server.port, name, joined })], {
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    const outputs = children.map((child) => {
      const lines = createInterface({ input: child.stdout! });
      const seen: unknown[] = [];
      const ready = new Promise<void>((resolve) =>
        lines.on("line", (line) => {
          const message = JSON.parse(line);
          if (message.ready) resolve();
          else seen.push(message);
        }),
      );
      const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      return { child, ready, done, seen };
    });
    await Promise.all(outputs.map((o) => o.ready));
    for (const { child } of outputs) child.stdin!.write("go\n");
    await Promise.all(outputs.map((o) => o.done));
    return outputs.map((o) => o.seen[0] as { upstreamCalls: number; state: string });
  }

  it("three gateway processes on one redis-server: joined, an outage costs fewer upstream calls", async () => {
    const alone = await run(3, false, "procs-alone");
    const joined = await run(3, true, "procs-joined");
    const total = (xs: { upstreamCalls: number }[]) =>
      xs.reduce((sum, x) => sum + x.upstreamCalls, 0);
    expect(alone.every((x) => x.state === "open")).toBe(true);
    expect(joined.every((x) => x.state === "open")).toBe(true);
    expect(total(alone)).toBe(60); // 20 consecutive failures each
    expect(total(joined)).toBeLessThan(total(alone));
  }, 30_000);
});
