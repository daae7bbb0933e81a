// do() that cannot hang: timeouts, the signal fn receives, the caller's abort; on both engines,
// with real timers and with fake ones.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Breaker, BreakerBox, isTimeoutError, TimeoutError } from "../src/index.js";
import { SharedBreakerBox } from "../src/shared.js";
import { engines } from "./helpers.js";

const never = () => new Promise<number>(() => {});

afterEach(() => {
  vi.useRealTimers();
});

describe.each(engines)("do() with timeouts and signals on the %s engine", (engine) => {
  it("a call that never settles times out: a TimeoutError, a failure; enough of them open the breaker", async () => {
    const box = new BreakerBox({ engine, trip: { consecutiveFailures: 3 }, timeoutMs: 20 });
    box.countTotals();
    const breaker = box.get("upstream");
    for (let i = 0; i < 3; i++) {
      const error = await breaker.do(never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect(isTimeoutError(error)).toBe(true);
      expect(error).toMatchObject({ name: "TimeoutError", timeoutMs: 20, key: "upstream" });
    }
    expect(breaker.state).toBe("open");
    expect(breaker.stats().reasons).toContain("the call did not settle within 20 ms");
    expect(breaker.stats().totals).toMatchObject({ failures: 3, timeouts: 3, successes: 0 });
  });

  it("fn's signal aborts on the timeout, with the TimeoutError; a late result changes nothing", async () => {
    const b = new Breaker({ engine, trip: { consecutiveFailures: 100 } });
    let seen: AbortSignal | undefined;
    let finish: (value: number) => void = () => {};
    const call = b.do(
      ({ signal }) => {
        seen = signal;
        return new Promise<number>((resolve) => {
          finish = resolve;
        });
      },
      { timeoutMs: 15 },
    );
    await expect(call).rejects.toBeInstanceOf(TimeoutError);
    expect(seen?.aborted).toBe(true);
    expect(isTimeoutError(seen?.reason)).toBe(true);
    finish(1); // the late success
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(b.counts).toMatchObject({ failures: 1, successes: 0 });
  });

  it("the caller's abort while fn runs rejects at once with its reason, counts as neither, and aborts fn's signal", async () => {
    const b = new Breaker({ engine, trip: { consecutiveFailures: 100 } });
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const call = b.do(
      ({ signal }) => {
        inner = signal;
        return never();
      },
      { signal: controller.signal, timeoutMs: 60_000 },
    );
    const reason = new Error("the user went away");
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(inner?.aborted).toBe(true);
    expect(b.counts).toMatchObject({ exclusions: 1, failures: 0, successes: 0 });
    // An abort after the call settled changes nothing.
    const late = new AbortController();
    await b.do(async () => 1, { signal: late.signal });
    late.abort();
    expect(b.counts).toMatchObject({ exclusions: 1, successes: 1 });
  });

  it("with fake timers: the timeout fires at its deadline; no timer is left once nothing is in flight", async () => {
    vi.useFakeTimers();
    const b = new Breaker({ engine, trip: { consecutiveFailures: 100 }, timeoutMs: 1000 });
    let timedOut = false;
    const call = b.do(never).catch((e: unknown) => {
      timedOut = isTimeoutError(e);
    });
    const quick = b.do(() => Promise.resolve(7), { timeoutMs: 5000 });
    expect(await quick).toBe(7);
    await vi.advanceTimersByTimeAsync(999);
    expect(timedOut).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await call;
    expect(timedOut).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(b.counts).toMatchObject({ failures: 1, successes: 1 });
  });

  it("many calls in flight share one timer; those that settle in time count as successes", async () => {
    vi.useFakeTimers();
    const b = new Breaker({ engine, trip: { consecutiveFailures: 10_000 } });
    const calls = Array.from({ length: 1000 }, (_, i) =>
      b.do(() => (i % 10 === 0 ? never() : Promise.resolve(i)), { timeoutMs: 100 + (i % 7) }),
    );
    const outcomes = Promise.allSettled(calls); // handled from the start
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    const results = await outcomes;
    expect(results.filter((r) => r.status === "rejected").length).toBe(100);
    expect(b.counts).toMatchObject({ failures: 100, successes: 900 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("nobody can abort: fn gets one shared signal that never aborts; options are checked", () => {
    const b = new Breaker({ engine });
    const signals = new Set<AbortSignal>();
    for (let i = 0; i < 3; i++) b.do(({ signal }) => signals.add(signal));
    expect(signals.size).toBe(1);
    expect([...signals][0].aborted).toBe(false);
    expect(() => b.do(() => 1, { timeoutMs: 0 })).toThrow(
      /timeoutMs must be a finite number > 0, got 0/,
    );
    expect(() => new Breaker({ timeoutMs: -1 })).toThrow(RangeError);
    expect(() => new BreakerBox({ timeoutMs: "1s" } as never)).toThrow(
      /timeoutMs must be a number/,
    );
  });
});

describe.each(engines)("token leases on the %s engine", (engine) => {
  const make = (timeoutMs = 100) => {
    let now = 0;
    const box = new BreakerBox({
      engine,
      now: () => now,
      trip: { consecutiveFailures: 2 },
      timeoutMs,
    });
    return { box, advance: (ms: number) => (now += ms) };
  };

  it("a token settled as a success after the box's timeoutMs counts as a timeout, a failure", () => {
    const { box, advance } = make();
    const breaker = box.get("upstream");
    const early = breaker.tryAcquire();
    advance(100);
    breaker.accept(early); // at the deadline: in time
    expect(breaker.stats()).toMatchObject({ successes: 1, failures: 0 });
    const late = breaker.tryAcquire();
    advance(101);
    breaker.accept(late);
    expect(breaker.stats()).toMatchObject({ successes: 1, failures: 1 });
    expect(breaker.stats().reasons).toContain("the call did not settle within 100 ms");
    breaker.accept(breaker.tryAcquire(), 250); // a duration given explicitly is held to it too
    expect(breaker.state).toBe("open");
  });

  it("a permit from allow() has the same lease; failures and exclusions settle as they are", () => {
    const { box, advance } = make();
    const breaker = box.get("upstream");
    const permit = breaker.allow();
    advance(500);
    permit?.accept();
    const excluded = breaker.tryAcquire();
    advance(500);
    breaker.exclude(excluded);
    expect(breaker.counts).toMatchObject({ requests: 2, successes: 0, failures: 1, exclusions: 1 });
  });

  it("forgotten tokens are reclaimed once their lease is over, before the permit table grows", () => {
    const { box, advance } = make(50);
    const breaker = box.get("upstream");
    for (let i = 0; i < 64; i++) breaker.tryAcquire(); // never settled: the table is full
    expect(box.tokens).toEqual({ outstanding: 64, expired: 0 });
    advance(51);
    const tokens = Array.from({ length: 64 }, () => breaker.tryAcquire());
    expect(box.tokens).toEqual({ outstanding: 64, expired: 64 });
    for (const token of tokens) breaker.accept(token);
    expect(breaker.stats()).toMatchObject({ successes: 64, failures: 0 });
    expect(box.tokens.outstanding).toBe(0);
  });

  it("a shared box's tokens have the same lease", () => {
    let now = 0;
    const box = new SharedBreakerBox({ engine, maxKeys: 4, now: () => now, timeoutMs: 100 });
    const breaker = box.get("upstream");
    const late = breaker.tryAcquire();
    now += 101;
    breaker.accept(late);
    breaker.accept(breaker.tryAcquire());
    expect(breaker.stats()).toMatchObject({ successes: 1, failures: 1 });
  });

  it("without timeoutMs a token has no lease: a late success is a success", () => {
    let now = 0;
    const breaker = new Breaker({ engine, now: () => now });
    const token = breaker.tryAcquire();
    now += 3_600_000;
    breaker.accept(token);
    expect(breaker.stats()).toMatchObject({ successes: 1, failures: 0 });
  });
});
