// Stats sweeps, the Prometheus and OpenTelemetry exporters against the real libraries, drop reports.
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { observeBreakerBox } from "../src/adapters/otel.js";
import { registerBreakerBox } from "../src/adapters/prometheus.js";
import { BreakerBox, type DropReport } from "../src/index.js";
import { engines, ManualClock } from "./helpers.js";

/** A box with a healthy adaptive breaker, a dropping one, and an open three-state one. */
function scenario(engine: "wasm" | "js") {
  const clock = new ManualClock();
  const box = new BreakerBox({ engine, now: clock.now, seed: 3, recovery: "go-zero" });
  const healthy = box.get("GET://healthy");
  for (let i = 0; i < 40; i++) healthy.accept(healthy.tryAcquire());
  const sick = box.get("GET://sick");
  for (let i = 0; i < 200; i++) {
    const token = sick.tryAcquire();
    if (token !== 0) sick.reject(token, "503 Service Unavailable");
  }
  const upstream = box.get("upstream", { trip: { consecutiveFailures: 3 } });
  for (let i = 0; i < 3; i++) upstream.reject(upstream.tryAcquire(), "timeout");
  return { clock, box, healthy, sick, upstream };
}

/** A metric reader of the real OTel SDK, read on demand (cumulative). */
class Reader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onShutdown() {}
  protected async onForceFlush() {}
}

describe.each(engines)("observability on the %s engine", (engine) => {
  it("box.stats() sweeps every breaker, matching each breaker's own stats", () => {
    const { box, sick, upstream } = scenario(engine);
    const all = box.stats();
    expect(all.map((s) => s.key)).toEqual(["GET://healthy", "GET://sick", "upstream"]);
    const [h, s, u] = all;
    expect(h).toMatchObject({
      policy: "adaptive",
      state: "closed",
      requests: 40,
      successes: 40,
      failures: 0,
      drops: 0,
      dropRatio: 0,
    });
    const own = sick.stats();
    expect(s).toMatchObject({
      policy: "adaptive",
      state: "open",
      requests: own.requests,
      failures: own.failures,
      drops: own.drops,
      dropRatio: own.dropRatio,
    });
    expect(s.drops).toBeGreaterThan(0);
    expect(s.reasons).toEqual(Array(5).fill("503 Service Unavailable"));
    expect(u).toMatchObject({
      policy: "three-state",
      state: "open",
      requests: 0,
      dropRatio: 1,
      changedAt: 0,
    });
    expect(upstream.state).toBe("open");
  });

  it("sweeps in chunks past 4096 breakers, skipping deleted ones", () => {
    const box = new BreakerBox({ engine, now: new ManualClock().now });
    for (let i = 0; i < 9000; i++) {
      const b = box.get(`k${i}`, i % 3 === 0 ? { trip: { consecutiveFailures: 2 } } : undefined);
      for (let n = 0; n < i % 4; n++) b.reject(b.tryAcquire());
    }
    for (let i = 0; i < 9000; i += 7) box.delete(`k${i}`);
    const seen = new Map<string, number>();
    box.forEachStats((key, s) => seen.set(key, s.failures + s.requests * 0));
    expect(seen.size).toBe(box.size);
    for (const [key, failures] of seen) {
      const i = Number(key.slice(1));
      expect(i % 7).not.toBe(0);
      const three = i % 3 === 0;
      expect(failures).toBe(three && i % 4 >= 2 ? 0 : i % 4); // two failures open a three-state one, clearing its counts
    }
  });

  it("Prometheus: the scrape text carries each breaker's values, computed at scrape time", async () => {
    const { box, clock } = scenario(engine);
    const registry = new Registry();
    const unregister = registerBreakerBox(box, { registry });
    const text = await registry.metrics();
    expect(text).toContain('breakerbox_requests{box="default",key="GET://healthy"} 40');
    expect(text).toContain('breakerbox_state{box="default",key="upstream",state="open"} 1');
    expect(text).toContain('breakerbox_state{box="default",key="upstream",state="closed"} 0');
    expect(text).toContain('breakerbox_drop_ratio{box="default",key="upstream"} 1');
    expect(text).toMatch(/breakerbox_drops\{box="default",key="GET:\/\/sick"\} [1-9]/);
    clock.t = 20_000; // every window has moved on: the next scrape says so
    const later = await registry.metrics();
    expect(later).toContain('breakerbox_requests{box="default",key="GET://healthy"} 0');
    expect(later).toContain('breakerbox_state{box="default",key="upstream",state="half-open"} 0');
    unregister();
    expect(await registry.metrics()).not.toContain("breakerbox_");
    expect(() => registerBreakerBox(box, { registry, prefix: "bad prefix" })).toThrow(RangeError);
  });

  it("OpenTelemetry: observable gauges with the breaker key, from a real SDK reader", async () => {
    const { box } = scenario(engine);
    const reader = new Reader();
    const provider = new MeterProvider({ readers: [reader] });
    const stop = observeBreakerBox(box, provider.getMeter("test"));
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const point = (name: string, key: string, state?: string) =>
      metrics
        .find((m) => m.descriptor.name === name)!
        .dataPoints.find(
          (p) =>
            p.attributes["breaker.key"] === key &&
            (state === undefined || p.attributes["breaker.state"] === state),
        )!.value;
    expect(point("breakerbox.requests", "GET://healthy")).toBe(40);
    expect(point("breakerbox.drop_ratio", "upstream")).toBe(1);
    expect(point("breakerbox.state", "upstream", "open")).toBe(1);
    expect(point("breakerbox.state", "GET://healthy", "closed")).toBe(1);
    stop();
    await provider.shutdown();
  });

  it("Prometheus: several boxes in one registry by their box label; lifetime counters by outcome", async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const make = () =>
      new BreakerBox({
        engine,
        now: clock.now,
        policy: "three-state",
        trip: { consecutiveFailures: 2 },
      });
    const users = make();
    const orders = make();
    const stopUsers = registerBreakerBox(users, { registry, name: "users" });
    const stopOrders = registerBreakerBox(orders, { registry, name: "orders" });
    expect(() => registerBreakerBox(make(), { registry, name: "users" })).toThrow(
      /a box named "users" is already registered/,
    );
    const u = users.get("api");
    u.accept(u.tryAcquire());
    u.reject(u.tryAcquire());
    u.reject(u.tryAcquire()); // open: the window restarts, the totals go on
    u.tryAcquire();
    u.tryAcquire();
    const o = orders.get("api");
    o.exclude(o.tryAcquire());
    const text = await registry.metrics();
    expect(text).toContain('breakerbox_calls_total{box="users",key="api",outcome="success"} 1');
    expect(text).toContain('breakerbox_calls_total{box="users",key="api",outcome="failure"} 2');
    expect(text).toContain('breakerbox_rejections_total{box="users",key="api"} 2');
    expect(text).toContain('breakerbox_calls_total{box="orders",key="api",outcome="excluded"} 1');
    expect(text).toContain('breakerbox_failures{box="users",key="api"} 0');
    expect(text).toContain("# TYPE breakerbox_calls_total counter");
    stopUsers();
    const after = await registry.metrics();
    expect(after).not.toContain('box="users"');
    expect(after).toContain('box="orders"');
    stopOrders();
    expect(await registry.metrics()).not.toContain("breakerbox_");
  });

  it("OpenTelemetry: two boxes on one meter, told apart by breaker.box; lifetime counters", async () => {
    const { box } = scenario(engine);
    const other = new BreakerBox({ engine });
    const one = other.get("upstream");
    const reader = new Reader();
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter("test");
    const stopA = observeBreakerBox(box, meter, { name: "a" });
    const stopB = observeBreakerBox(other, meter, { name: "b" });
    one.accept(one.tryAcquire());
    one.accept(one.tryAcquire());
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const calls = metrics.filter((m) => m.descriptor.name === "breakerbox.calls");
    type Point = { attributes: Record<string, unknown>; value: unknown };
    const points = calls.flatMap((m) => m.dataPoints as Point[]);
    const success = points.find(
      (p) =>
        p.attributes["breaker.box"] === "b" &&
        p.attributes["breaker.key"] === "upstream" &&
        p.attributes["breaker.outcome"] === "success",
    );
    expect(success?.value).toBe(2);
    const requests = metrics
      .filter((m) => m.descriptor.name === "breakerbox.requests")
      .flatMap((m) => m.dataPoints as Point[]);
    expect(new Set(requests.map((p) => p.attributes["breaker.box"]))).toEqual(new Set(["a", "b"]));
    stopA();
    stopB();
    await provider.shutdown();
  });

  it("drop reports: at most one per interval per breaker, counting what was suppressed", () => {
    const clock = new ManualClock();
    const reports: DropReport[] = [];
    const box = new BreakerBox({
      engine,
      now: clock.now,
      trip: { consecutiveFailures: 1 },
      openMs: 1e9,
      onDrop: (r) => reports.push(r),
      dropReportMs: 60_000,
    });
    const a = box.get("a");
    a.reject(a.tryAcquire(), "boom");
    for (let i = 0; i < 10; i++) a.tryAcquire();
    expect(reports).toEqual([
      {
        key: "a",
        message: "circuit breaker is open and requests dropped",
        dropped: 1,
        suppressed: 0,
        reasons: ["boom"],
      },
    ]);
    clock.t = 59_999;
    a.allow();
    expect(reports.length).toBe(1);
    clock.t = 60_000;
    expect(() => a.do(() => 1)).toThrow("circuit breaker is open");
    expect(reports[1]).toMatchObject({ key: "a", dropped: 11, suppressed: 10 }); // 9 more tryAcquire, allow(), do()
    const b = box.get("b"); // its own interval
    b.reject(b.tryAcquire());
    b.tryAcquire();
    expect(reports.map((r) => r.key)).toEqual(["a", "a", "b"]);
  });

  it("is silent by default, and a throwing reporter changes nothing", async () => {
    const clock = new ManualClock();
    const box = new BreakerBox({
      engine,
      now: clock.now,
      trip: { consecutiveFailures: 1 },
      onDrop: () => {
        throw new Error("logger down");
      },
    });
    const a = box.get("a");
    a.reject(a.tryAcquire());
    const thrown: unknown[] = [];
    const onUncaught = (e: unknown) => thrown.push(e);
    process.on("uncaughtException", onUncaught);
    try {
      expect(a.tryAcquire()).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 0));
    } finally {
      process.off("uncaughtException", onUncaught);
    }
    expect(thrown.map((e) => (e as Error).message)).toEqual(["logger down"]);
    expect(a.state).toBe("open");
    expect(() => new BreakerBox({ onDrop: 5 as never })).toThrow(
      "onDrop must be a function, got 5",
    );
    expect(() => new BreakerBox({ dropReportMs: -1 })).toThrow(
      /dropReportMs must be a finite number ≥ 0, got -1/,
    );
  });
});
