// State-change events on both engines: the adaptive policy's start and end of shedding, and a
// box's listeners hearing every breaker's changes with its key, manual modes included.
import { describe, expect, it } from "vitest";
import { Breaker, BreakerBox } from "../src/index.js";
import { SharedBreakerBox } from "../src/shared.js";
import { engines } from "./helpers.js";

describe.each(engines)("state-change events on the %s engine", (engine) => {
  it("an adaptive breaker reports when it starts shedding and when it stops, once each", () => {
    let now = 0;
    const breaker = new Breaker({ engine, now: () => now, seed: 7 });
    const changes: string[] = [];
    breaker.onStateChange(({ from, to }) => changes.push(`${from}→${to}`));
    for (let i = 0; i < 20; i++) breaker.accept(breaker.tryAcquire());
    expect(changes).toEqual([]);
    for (let i = 0; i < 200; i++) {
      const token = breaker.tryAcquire();
      if (token !== 0) breaker.reject(token);
    }
    expect(breaker.state).toBe("open");
    expect(changes).toEqual(["closed→open"]);
    now += 20_000; // the window forgets the failures
    expect(breaker.tryAcquire()).toBeGreaterThan(0);
    expect(changes).toEqual(["closed→open", "open→closed"]);
    expect(breaker.state).toBe("closed");
  });

  it("a sweep that sees shedding end first does not swallow the event", () => {
    let now = 0;
    const box = new BreakerBox({ engine, now: () => now, seed: 3 });
    const breaker = box.get("a");
    const changes: string[] = [];
    box.onStateChange(({ key, from, to }) => changes.push(`${key}:${from}→${to}`));
    for (let i = 0; i < 200; i++) {
      const token = breaker.tryAcquire();
      if (token !== 0) breaker.reject(token);
    }
    expect(changes).toEqual(["a:closed→open"]);
    now += 20_000;
    expect(box.dropping()).toBe(0); // the sweep rolls the window: no longer shedding
    breaker.tryAcquire(); // the next call reports it, though it passes on the memory alone
    expect(changes).toEqual(["a:closed→open", "a:open→closed"]);
  });

  it("box.onStateChange hears every breaker with its key: transitions, manual modes, later keys", () => {
    let now = 0;
    const box = new BreakerBox({
      engine,
      now: () => now,
      policy: "three-state",
      trip: { consecutiveFailures: 2 },
      openMs: 1000,
    });
    const changes: string[] = [];
    const stop = box.onStateChange(({ key, from, to }) => changes.push(`${key}:${from}→${to}`));
    const a = box.get("a");
    a.reject(a.tryAcquire());
    a.reject(a.tryAcquire());
    now += 1000;
    a.accept(a.tryAcquire()); // half-open, then the probe closes it
    box.get("b").forceOpen();
    box.get("b").forceClose();
    const iso = box.get("c").isolate();
    iso.release();
    box.delete("a");
    const again = box.get("a");
    again.reject(again.tryAcquire());
    again.reject(again.tryAcquire());
    expect(changes).toEqual([
      "a:closed→open",
      "a:open→half-open",
      "a:half-open→closed",
      "b:closed→forced-open",
      "b:forced-open→closed",
      "c:closed→isolated",
      "c:isolated→closed",
      "a:closed→open",
    ]);
    stop();
    box.get("b").forceOpen();
    expect(changes).toHaveLength(8);
    expect(() => box.onStateChange(5 as never)).toThrow(/listener must be a function, got number/);
  });

  it("a shared box tells the thread whose call made the change", () => {
    let now = 0;
    const box = new SharedBreakerBox({ engine, maxKeys: 8, now: () => now });
    const changes: string[] = [];
    box.onStateChange(({ key, from, to }) => changes.push(`${key}:${from}→${to}`));
    const breaker = box.get("s", { policy: "three-state", trip: { consecutiveFailures: 1 } });
    breaker.reject(breaker.tryAcquire());
    const adaptive = box.get("t");
    for (let i = 0; i < 200; i++) {
      const token = adaptive.tryAcquire();
      if (token !== 0) adaptive.reject(token);
    }
    now += 20_000;
    adaptive.tryAcquire();
    expect(changes).toEqual(["s:closed→open", "t:closed→open", "t:open→closed"]);
  });
});

describe.each(engines)("lifetime totals on the %s engine", (engine) => {
  it("count every outcome across state changes, rejections and timeouts included, once asked for", async () => {
    let now = 0;
    const box = new BreakerBox({
      engine,
      now: () => now,
      policy: "three-state",
      trip: { consecutiveFailures: 2 },
      openMs: 1000,
      timeoutMs: 100,
    });
    const a = box.get("a");
    a.accept(a.tryAcquire());
    expect(box.stats()[0].totals).toBeUndefined(); // not counted until asked for
    box.countTotals();
    a.accept(a.tryAcquire());
    a.exclude(a.tryAcquire());
    a.allow()?.accept();
    const late = a.tryAcquire();
    now += 150;
    a.accept(late); // a timeout: a failure
    a.reject(a.tryAcquire()); // the second failure in a row: open
    expect(a.state).toBe("open");
    expect(a.tryAcquire()).toBe(0);
    expect(a.allow()).toBeNull();
    expect(() => a.do(() => 1)).toThrow(/circuit breaker is open/);
    await expect(box.do("b", async () => 2)).resolves.toBe(2);
    const expected = { successes: 2, failures: 2, exclusions: 1, rejections: 3, timeouts: 1 };
    expect(a.stats().totals).toEqual(expected);
    expect(a.counts.requests).toBe(0); // the window restarted with the state; the totals did not
    const byKey = Object.fromEntries(box.stats().map((s) => [s.key, s.totals]));
    expect(byKey).toEqual({
      a: expected,
      b: { successes: 1, failures: 0, exclusions: 0, rejections: 0, timeouts: 0 },
    });
    box.delete("b");
    expect(box.get("b").stats().totals).toEqual({
      successes: 0,
      failures: 0,
      exclusions: 0,
      rejections: 0,
      timeouts: 0,
    });
  });
});

describe.each(engines)("classifiers given at creation on the %s engine", (engine) => {
  class NotFound extends Error {}
  class Cancelled extends Error {}
  const options = {
    engine,
    policy: "three-state" as const,
    trip: { consecutiveFailures: 100 },
    isFailure: (error: unknown) => !(error instanceof NotFound),
    isExcluded: (error: unknown) => error instanceof Cancelled,
    isFailureResult: (value: unknown) => (value as { status?: number } | null)?.status === 503,
  };
  const run = async (breaker: Breaker) => {
    await breaker.do(async () => ({ status: 200 }));
    await expect(breaker.do(async () => ({ status: 503 }))).resolves.toEqual({ status: 503 });
    await expect(breaker.do(async () => Promise.reject(new NotFound("404")))).rejects.toThrow();
    expect(() =>
      breaker.do(() => {
        throw new Cancelled("bye");
      }),
    ).toThrow("bye");
    await expect(breaker.do(async () => Promise.reject(new Error("boom")))).rejects.toThrow();
    breaker.do(() => ({ status: 503 })); // a synchronous result too
    return breaker.counts;
  };

  it("a breaker's own: errors, exclusions and failing results, sync and async", async () => {
    const counts = await run(new Breaker(options));
    expect(counts).toMatchObject({ successes: 2, failures: 3, exclusions: 1 });
  });

  it("a box's default, a key's own in its place, and per-call options over both", async () => {
    const { engine: _, ...classifiers } = options;
    const box = new BreakerBox({ engine, ...classifiers });
    expect(await run(box.get("a"))).toMatchObject({ successes: 2, failures: 3, exclusions: 1 });
    const own = box.get("b", {
      policy: "three-state",
      trip: { consecutiveFailures: 100 },
      isFailureResult: () => false,
    });
    await own.do(async () => ({ status: 503 }));
    expect(own.counts).toMatchObject({ successes: 1, failures: 0 });
    const c = box.get("c");
    await c.do(async () => ({ status: 503 }), { isFailureResult: () => false });
    await expect(
      c.do(async () => Promise.reject(new NotFound("x")), { acceptable: () => false }),
    ).rejects.toThrow();
    expect(c.counts).toMatchObject({ successes: 1, failures: 1 });
    expect(c.stats().reasons).toEqual(["x"]);
    expect(() => new BreakerBox({ engine, isFailure: 5 as never })).toThrow(
      "isFailure must be a function, got 5",
    );
    expect(() => box.get("d", { isExcluded: "no" as never })).toThrow(
      /isExcluded must be a function/,
    );
    expect(box.has("d")).toBe(false);
  });

  it("a throwing isFailureResult settles the call as a failure and surfaces its error", async () => {
    const breaker = new Breaker({
      engine,
      policy: "three-state",
      trip: { consecutiveFailures: 100 },
      isFailureResult: () => {
        throw new Error("predicate broke");
      },
    });
    await expect(breaker.do(async () => 1)).rejects.toThrow("predicate broke");
    expect(() => breaker.do(() => 1)).toThrow("predicate broke");
    expect(breaker.counts).toMatchObject({ successes: 0, failures: 2 });
  });
});

describe.each(engines)(
  "counts from elsewhere, trips and totals walks on the %s engine",
  (engine) => {
    it("merge(): an adaptive breaker sheds on a cluster's failures; a closed three-state one trips", () => {
      const now = 0;
      const box = new BreakerBox({ engine, now: () => now, seed: 5 });
      const adaptive = box.get("a");
      const changes: string[] = [];
      box.onStateChange(({ key, to }) => changes.push(`${key}:${to}`));
      adaptive.merge(0, 200);
      expect(adaptive.state).toBe("open");
      expect(adaptive.stats()).toMatchObject({ failures: 200 });
      const three = box.get("t", { trip: { failureRatio: 0.5, minRequests: 10 } });
      three.merge(6, 3);
      expect(three.state).toBe("closed");
      three.merge(0, 3); // 6 of 12
      expect(three.state).toBe("open");
      three.merge(100, 0); // an open breaker counts nothing
      expect(three.counts.requests).toBe(0);
      expect(changes).toEqual(["a:open", "t:open"]);
      expect(() => three.merge(-1, 0)).toThrow("successes must be an integer in [0, 2^32), got -1");
      expect(() => three.merge(0, 1.5)).toThrow(/failures must be an integer/);
    });

    it("trip(): opens a three-state breaker for what was asked, at most maxOpenMs; adaptive refuses", () => {
      let now = 0;
      const breaker = new Breaker({
        engine,
        now: () => now,
        trip: { consecutiveFailures: 5 },
        openMs: 60_000,
        maxOpenMs: 90_000,
      });
      breaker.trip(2_000);
      expect(breaker.openUntil).toBe(2_000);
      breaker.trip(500); // already open: stays open at least that long
      expect(breaker.openUntil).toBe(2_000);
      breaker.trip(1e9);
      expect(breaker.openUntil).toBe(90_000);
      now = 90_000;
      expect(breaker.state).toBe("half-open");
      expect(() => new Breaker({ engine }).trip(1000)).toThrow(
        /trip\(\) needs a three-state breaker/,
      );
      expect(() => breaker.trip(-1)).toThrow(/openForMs must be a finite number ≥ 0/);
    });

    it("forEachTotals() walks the box's totals without a sweep, skipping deleted breakers", () => {
      const box = new BreakerBox({ engine });
      const seen: string[] = [];
      box.get("x").accept(box.get("x").tryAcquire());
      box.forEachTotals((key) => seen.push(key));
      expect(seen).toEqual([]); // not counted yet
      box.countTotals();
      box.get("x").accept(box.get("x").tryAcquire());
      box.get("y").reject(box.get("y").tryAcquire());
      box.get("z");
      box.delete("z");
      const out: Record<string, number[]> = {};
      box.forEachTotals((key, t) => {
        out[key] = [t.successes, t.failures];
      });
      expect(out).toEqual({ x: [1, 0], y: [0, 1] });
    });
  },
);

describe.each(engines)("watchStats() on the %s engine", (engine) => {
  it("visits every breaker first, then only those whose figures moved; deleted and re-made ones too", () => {
    let now = 0;
    const box = new BreakerBox({ engine, now: () => now });
    for (let i = 0; i < 5000; i++) box.get(`k${i}`);
    const watch = box.watchStats();
    const seen = () => {
      const keys: string[] = [];
      watch.poll((key) => keys.push(key));
      return keys;
    };
    expect(seen()).toHaveLength(5000);
    expect(seen()).toEqual([]);
    box.get("k7").reject(box.get("k7").tryAcquire());
    box.get("k4999").accept(box.get("k4999").tryAcquire());
    expect(seen().sort()).toEqual(["k4999", "k7"]);
    box.delete("k10");
    box.get("fresh"); // takes k10's slot
    expect(seen()).toEqual(["fresh"]);
    now += 20_000; // the windows move: the two busy breakers' figures fall to nothing
    expect(seen().sort()).toEqual(["k4999", "k7"]);
    const other = box.watchStats(); // cursors are independent
    let count = 0;
    expect(other.poll(() => count++)).toBe(5000);
    expect(count).toBe(5000);
  });

  it("works on a shared box", () => {
    const box = new SharedBreakerBox({ engine, maxKeys: 64 });
    for (let i = 0; i < 10; i++) box.get(`s${i}`);
    const watch = box.watchStats();
    let count = 0;
    watch.poll(() => count++);
    expect(count).toBe(10);
    box.get("s3").reject(box.get("s3").tryAcquire());
    const keys: string[] = [];
    watch.poll((key) => keys.push(key));
    expect(keys).toEqual(["s3"]);
  });
});
