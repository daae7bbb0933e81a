// The three-state policy through the facade, with an injected clock, on both engines.
import { describe, expect, it } from "vitest";
import {
  Breaker,
  BreakerBox,
  type BreakerOptions,
  isBreakerOpenError,
  isTooManyRequestsError,
} from "../src/index.js";
import { engines, ManualClock } from "./helpers.js";

describe.each(engines)("three-state breaker on the %s engine", (engine) => {
  const make = (options: BreakerOptions = {}) => {
    const clock = new ManualClock();
    const breaker = new Breaker({
      engine,
      now: clock.now,
      policy: "three-state",
      ...options,
    } as BreakerOptions);
    const fail = (n = 1, reason?: string) => {
      for (let i = 0; i < n; i++) breaker.reject(breaker.tryAcquire(), reason);
    };
    const succeed = (n = 1) => {
      for (let i = 0; i < n; i++) breaker.accept(breaker.tryAcquire());
    };
    return { clock, breaker, fail, succeed };
  };

  it("defaults to gobreaker's: opens at the 6th consecutive failure, open for 60 s, one probe", () => {
    const { clock, breaker, fail, succeed } = make();
    fail(5);
    succeed(); // a success resets the run
    fail(5);
    expect(breaker.state).toBe("closed");
    fail(1);
    expect(breaker.state).toBe("open");
    expect(breaker.tryAcquire()).toBe(0);
    clock.t = 59_999;
    expect(breaker.state).toBe("open");
    clock.t = 60_000;
    expect(breaker.state).toBe("half-open");
  });

  it.each([
    [{ consecutiveFailures: 3 }, 2, 3],
    [{ failureCount: 4, minRequests: 6 }, 5, 6], // 4 failures but only 5 requests: waits for minRequests
  ])("trip %j: closed at %i settled calls, open at %i", (trip, closedAt, openAt) => {
    const { breaker, fail, succeed } = make({ trip });
    if ("consecutiveFailures" in trip) {
      fail(closedAt);
      expect(breaker.state).toBe("closed");
      fail(openAt - closedAt);
    } else {
      succeed(1);
      fail(4);
      expect(breaker.counts.requests).toBe(closedAt);
      expect(breaker.state).toBe("closed");
      fail(1);
    }
    expect(breaker.state).toBe("open");
  });

  it("failure ratio: below, at and above the threshold, after minRequests", () => {
    const below = make({ trip: { failureRatio: 0.5, minRequests: 10 } });
    below.succeed(6);
    below.fail(4); // 4/10 < 0.5
    expect(below.breaker.state).toBe("closed");
    const at = make({ trip: { failureRatio: 0.5, minRequests: 10 } });
    at.succeed(5);
    at.fail(4); // 4/9: not yet 10 requests
    expect(at.breaker.state).toBe("closed");
    at.fail(1); // 5/10 = 0.5
    expect(at.breaker.state).toBe("open");
    const early = make({ trip: { failureRatio: 0.5, minRequests: 10 } });
    early.fail(9); // 9/9, under minRequests
    expect(early.breaker.state).toBe("closed");
  });

  it("failure ratio over a time window forgets old failures", () => {
    const { clock, breaker, fail, succeed } = make({
      trip: { failureRatio: 0.5, minRequests: 4 },
      windowMs: 1000,
      buckets: 4,
    });
    fail(3);
    clock.t = 1000; // those failures left the window
    succeed(2);
    fail(1); // 1/3, and under minRequests
    expect(breaker.state).toBe("closed");
    fail(1); // 2/4
    expect(breaker.state).toBe("open");
  });

  it("count window: the last N calls", () => {
    const { breaker, fail, succeed } = make({
      trip: { failureRatio: 0.5, minRequests: 4 },
      windowCalls: 4,
    });
    fail(1);
    succeed(3); // [F S S S] 1/4
    succeed(1); // [S S S S] the failure left
    fail(1); // [S S S F] 1/4
    expect(breaker.state).toBe("closed");
    fail(1); // [S S F F] 2/4
    expect(breaker.state).toBe("open");
  });

  it.each([
    ["failure ratio, time window", { trip: { failureRatio: 0.5, minRequests: 5 } }, 3, 2],
    [
      "failure ratio, count window",
      { trip: { failureRatio: 0.5, minRequests: 5 }, windowCalls: 10 },
      3,
      2,
    ],
    ["failure count", { trip: { failureCount: 3, minRequests: 5 } }, 3, 2],
    ["slow-call ratio", { trip: { slowCallRatio: 0.5, slowCallMs: 100, minRequests: 5 } }, 3, 2],
  ])(
    "%s: a success that completes a window meeting the trip opens it (resilience4j: F F F S S)",
    (_, options, bad, good) => {
      const { breaker, fail, succeed } = make(options as BreakerOptions);
      const slow = "slowCallRatio" in (options.trip as object);
      for (let i = 0; i < bad; i++) {
        if (slow) breaker.accept(breaker.tryAcquire(), 500);
        else fail(1);
      }
      succeed(good - 1);
      expect(breaker.state).toBe("closed"); // 4 calls, under minRequests
      succeed(1); // the fifth call, a success: 3/5 ≥ 0.5
      expect(breaker.state).toBe("open");
    },
  );

  it("a success that cannot complete a tripping window is only counted, and counts", () => {
    const { breaker, fail, succeed } = make({ trip: { failureRatio: 0.5, minRequests: 4 } });
    fail(1);
    succeed(3); // 1/4: no run of successes can reach 0.5
    expect(breaker.state).toBe("closed");
    succeed(100);
    fail(1);
    expect(breaker.state).toBe("closed");
    expect(breaker.counts).toMatchObject({ requests: 105, successes: 103, failures: 2 });
  });

  it("do(): a resolved call completes a tripping window and opens the breaker", async () => {
    const { breaker } = make({ trip: { failureRatio: 0.5, minRequests: 3 } });
    const failing = () => Promise.reject(new Error("down"));
    await expect(breaker.do(failing)).rejects.toThrow("down");
    await expect(breaker.do(failing)).rejects.toThrow("down");
    expect(breaker.state).toBe("closed");
    await expect(breaker.do(async () => "ok")).resolves.toBe("ok"); // 2/3
    expect(breaker.state).toBe("open");
  });

  it("slow-call ratio with measured and explicit durations", () => {
    const { clock, breaker } = make({
      trip: { slowCallRatio: 0.5, slowCallMs: 100, minRequests: 4 },
    });
    for (let i = 0; i < 3; i++) {
      const token = breaker.tryAcquire();
      clock.t += 150; // slow
      breaker.accept(token);
    }
    expect(breaker.counts.slowCalls).toBe(3);
    expect(breaker.state).toBe("closed"); // 3 requests < minRequests
    breaker.accept(breaker.tryAcquire(), 500); // explicitly slow: 4/4
    expect(breaker.state).toBe("open");
  });

  it("half-open: the probe cap, TooManyRequestsError, and closing after halfOpenSuccesses", () => {
    const { clock, breaker, fail } = make({
      trip: { consecutiveFailures: 1 },
      openMs: 1000,
      halfOpenMaxCalls: 2,
      halfOpenSuccesses: 3,
    });
    fail(1);
    clock.t = 1000;
    const a = breaker.tryAcquire();
    const b = breaker.tryAcquire();
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(breaker.state).toBe("half-open");
    expect(breaker.tryAcquire()).toBe(0); // cap of 2 probes
    let error: unknown;
    try {
      breaker.do(() => 1);
    } catch (e) {
      error = e;
    }
    expect(isTooManyRequestsError(error)).toBe(true);
    expect((error as Error).message).toBe("too many requests");
    breaker.accept(a);
    breaker.accept(b);
    expect(breaker.state).toBe("half-open"); // 2 of 3 successes
    breaker.accept(breaker.tryAcquire());
    expect(breaker.state).toBe("closed");
  });

  it("half-open: any failure opens again, with backoff, capped; a clean close resets it", () => {
    const { clock, breaker, fail, succeed } = make({
      trip: { consecutiveFailures: 1 },
      openMs: 1000,
      backoff: 2,
      maxOpenMs: 5000,
    });
    fail(1);
    expect(breaker.openUntil).toBe(1000);
    const expected = [3000, 7000, 12_000, 17_000]; // +2000, +4000, then the 5000 cap
    for (const until of expected) {
      clock.t = breaker.openUntil;
      fail(1); // the probe fails
      expect(breaker.state).toBe("open");
      expect(breaker.openUntil).toBe(until);
    }
    clock.t = breaker.openUntil;
    succeed(1);
    expect(breaker.state).toBe("closed");
    fail(1);
    expect(breaker.openUntil).toBe(clock.t + 1000); // backoff reset by the clean close
  });

  it("settlements from before a state change settle nothing", () => {
    const { clock, breaker, fail } = make({ trip: { consecutiveFailures: 2 }, openMs: 100 });
    const early = breaker.tryAcquire();
    const permit = breaker.allow()!;
    fail(2);
    expect(breaker.state).toBe("open");
    clock.t = 100;
    const probe = breaker.tryAcquire();
    breaker.reject(early); // older generation: ignored
    permit.reject();
    expect(breaker.state).toBe("half-open");
    breaker.accept(probe);
    expect(breaker.state).toBe("closed");
  });

  it("exclusions count as neither success nor failure", async () => {
    const { breaker } = make({ trip: { consecutiveFailures: 2 } });
    breaker.reject(breaker.tryAcquire());
    breaker.exclude(breaker.tryAcquire());
    const aborted = new Error("caller aborted");
    await expect(
      breaker.do(
        async () => {
          throw aborted;
        },
        { excluded: (e) => e === aborted },
      ),
    ).rejects.toBe(aborted);
    expect(breaker.counts).toMatchObject({
      requests: 3,
      failures: 1,
      exclusions: 2,
      consecutiveFailures: 1,
    });
    expect(breaker.state).toBe("closed");
  });

  it("accelerated trip: openForMs shorter than openMs opens for what was asked, not openMs (Retry-After: 2)", () => {
    const { clock, breaker, fail } = make({ trip: { consecutiveFailures: 1 }, openMs: 60_000 });
    breaker.reject(breaker.tryAcquire(), "429 Too Many Requests", 2_000);
    expect(breaker.openUntil).toBe(2_000);
    clock.t = 2_000;
    expect(breaker.state).toBe("half-open");
    fail(1); // a probe failure without a Retry-After: openMs again
    expect(breaker.openUntil).toBe(62_000);
  });

  it("accelerated trip: reject(token, reason, openForMs) opens for that long", () => {
    const { clock, breaker } = make({ trip: { consecutiveFailures: 100 }, openMs: 1000 });
    breaker.reject(breaker.tryAcquire(), "429 Too Many Requests", 30_000);
    expect(breaker.state).toBe("open");
    expect(breaker.openUntil).toBe(30_000);
    clock.t = 29_999;
    expect(breaker.state).toBe("open");
    clock.t = 30_000;
    expect(breaker.state).toBe("half-open");
    const permit = breaker.allow()!;
    permit.reject("503", 5_000); // a probe with Retry-After re-opens for at least 5 s
    expect(breaker.openUntil).toBe(35_000);
    expect(() => breaker.reject(breaker.tryAcquire(), "x", -1)).toThrow(RangeError); // checked before anything else
  });

  it("manual modes: forceOpen, disable, metricsOnly, forceClose, reset", () => {
    const { clock, breaker, fail } = make({ trip: { consecutiveFailures: 2 }, openMs: 1000 });
    breaker.forceOpen();
    expect(breaker.state).toBe("forced-open");
    expect(breaker.tryAcquire()).toBe(0);
    breaker.disable();
    expect(breaker.state).toBe("disabled");
    fail(10);
    expect(breaker.counts.failures).toBe(10);
    expect(breaker.tryAcquire()).toBeGreaterThan(0); // never trips
    breaker.metricsOnly();
    fail(2); // opens underneath, but lets calls through
    expect(breaker.state).toBe("metrics-only");
    const token = breaker.tryAcquire();
    expect(token).toBeGreaterThan(0);
    breaker.accept(token);
    breaker.forceClose();
    expect(breaker.state).toBe("closed");
    fail(2);
    expect(breaker.state).toBe("open");
    breaker.reset();
    expect(breaker.state).toBe("closed");
    expect(breaker.counts.failures).toBe(0);
    clock.t = 5;
  });

  it("isolate(): rejects until every handle is released; releasing twice does nothing", () => {
    const { breaker } = make();
    const first = breaker.isolate();
    const second = breaker.isolate();
    expect(breaker.state).toBe("isolated");
    expect(breaker.tryAcquire()).toBe(0);
    first.release();
    first.release();
    expect(breaker.state).toBe("isolated");
    second.release();
    expect(breaker.state).toBe("closed");
    expect(breaker.tryAcquire()).toBeGreaterThan(0);
  });

  it("events: once per real change, nothing without listeners, throwing listeners change nothing", async () => {
    const { clock, breaker, fail, succeed } = make({
      trip: { consecutiveFailures: 1 },
      openMs: 100,
    });
    const changes: string[] = [];
    const counted = { open: 0, halfOpen: 0, close: 0 };
    const stop = breaker.onStateChange(({ from, to }) => changes.push(`${from}→${to}`));
    breaker.onOpen(() => counted.open++);
    breaker.onHalfOpen(() => counted.halfOpen++);
    breaker.onClose(() => counted.close++);
    breaker.onStateChange(() => {
      throw new Error("listener bug");
    });
    const thrown: unknown[] = [];
    const onUncaught = (error: unknown) => thrown.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      fail(1);
      clock.t = 100;
      succeed(1);
      breaker.forceOpen();
      breaker.forceClose();
      stop();
      fail(1);
      await new Promise((resolve) => setTimeout(resolve, 0));
    } finally {
      process.off("uncaughtException", onUncaught);
    }
    expect(changes).toEqual([
      "closed→open",
      "open→half-open",
      "half-open→closed",
      "closed→forced-open",
      "forced-open→closed",
    ]);
    expect(counted).toEqual({ open: 2, halfOpen: 1, close: 2 });
    expect(thrown.length).toBe(6);
    expect(breaker.state).toBe("open");
  });

  it("do() while open: BreakerOpenError, or the fallback", async () => {
    const { breaker, fail } = make({ trip: { consecutiveFailures: 1 } });
    fail(1);
    expect(() => breaker.do(() => 1)).toThrow("circuit breaker is open");
    await expect(breaker.do(async () => 1)).rejects.toSatisfy(isBreakerOpenError);
    expect(breaker.do(() => 1, { fallback: () => 2 })).toBe(2);
    expect(breaker.stats()).toMatchObject({ policy: "three-state", state: "open", dropRatio: 1 });
  });

  it("options: clear errors, and none of the other policy's", () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ trip: { failureRatio: 1.5 } }, /trip.failureRatio must be in \(0, 1\], got 1.5/],
      [{ trip: { slowCallRatio: 0.5 } }, /trip.slowCallMs is required/],
      [{ trip: { consecutiveFailures: 3, failureCount: 2 } }, /exactly one of/],
      [
        { trip: { consecutiveFailures: 0 } },
        /trip.consecutiveFailures must be an integer in \[1, 4294967295\], got 0/,
      ],
      [
        { trip: { consecutiveFailures: 3 }, windowMs: 1000 },
        /windowMs does not apply to trip.consecutiveFailures/,
      ],
      [{ trip: { failureCount: 3 }, windowCalls: 10, buckets: 5 }, /cannot be combined/],
      [{ trip: { failureCount: 3, minRequest: 2 } }, /trip has an unknown option "minRequest"/],
      [
        { policy: "three-state", k: 2 },
        /k applies to the adaptive policy, not the three-state one/,
      ],
      [{ openMs: 1000 }, /openMs applies to the three-state policy, not the adaptive one/],
      [
        { policy: "three-state", openMs: 1000, maxOpenMs: 10 },
        /maxOpenMs must be a finite number ≥ openMs = 1000, got 10/,
      ],
      [{ policy: "three-state", backoff: 0.5 }, /backoff must be a finite number ≥ 1, got 0.5/],
      [
        { policy: "three-state", halfOpenMaxCalls: 0 },
        /halfOpenMaxCalls must be an integer in \[1, 65535\], got 0/,
      ],
      [{ policy: "fancy" }, /policy must be 'adaptive' or 'three-state', got "fancy"/],
    ];
    for (const [options, message] of bad)
      expect(() => new Breaker({ engine, ...(options as object) })).toThrow(message);
    const adaptive = new Breaker({ engine });
    expect(() => adaptive.forceOpen()).toThrow(/forceOpen\(\) needs a three-state breaker/);
    expect(() => adaptive.reject(adaptive.tryAcquire(), "x", 1000)).toThrow(
      /needs a three-state breaker/,
    );
  });

  it("keyed three-state breakers share a box with adaptive ones", () => {
    const clock = new ManualClock();
    const box = new BreakerBox({ engine, now: clock.now, trip: { consecutiveFailures: 2 } });
    const upstream = box.get("upstream");
    const adaptive = box.get("adaptive", { policy: "adaptive" });
    for (let i = 0; i < 2; i++) upstream.reject(upstream.tryAcquire());
    adaptive.reject(adaptive.tryAcquire());
    expect(upstream.state).toBe("open");
    expect(adaptive.state).toBe("closed");
    expect(box.dropping()).toBe(1);
  });
});

describe.each(engines)("probe leases on the %s engine", (engine) => {
  it("a probe never settled counts as failed after probeTimeoutMs: the breaker opens again, then probes anew", () => {
    const clock = new ManualClock();
    const b = new Breaker({
      engine,
      now: clock.now,
      trip: { consecutiveFailures: 1 },
      openMs: 1000,
      probeTimeoutMs: 500,
      backoff: 2,
    });
    b.reject(b.tryAcquire());
    clock.t = 1000;
    const lost = b.tryAcquire(); // the probe: never settled
    expect(lost).toBeGreaterThan(0);
    expect(b.state).toBe("half-open");
    clock.t = 1499;
    expect(b.tryAcquire()).toBe(0); // too many requests: the probe is still out
    clock.t = 1500;
    expect(b.state).toBe("open"); // its lease ran out: a failure, and open again with the backoff
    expect(b.openUntil).toBe(1500 + 2000);
    clock.t = 3500;
    const probe = b.tryAcquire();
    expect(probe).toBeGreaterThan(0);
    b.accept(probe);
    expect(b.state).toBe("closed");
    b.accept(lost); // the lost probe, settled at last: stale, it counts for nothing
    expect(b.counts.successes).toBe(0);
  });

  it("a snapshot taken with a probe out is restored with none out: the next call probes", () => {
    const clock = new ManualClock();
    const options = {
      engine,
      now: clock.now,
      trip: { consecutiveFailures: 1 },
      openMs: 1000,
    } as const;
    const b = new Breaker(options);
    b.reject(b.tryAcquire());
    clock.t = 1000;
    expect(b.tryAcquire()).toBeGreaterThan(0); // a probe out, never settled here
    const snapshot = JSON.parse(JSON.stringify(b.toJSON()));
    const restored = new Breaker({ engine, now: clock.now, initialState: snapshot });
    expect(restored.state).toBe("half-open");
    const probe = restored.tryAcquire();
    expect(probe).toBeGreaterThan(0);
    restored.accept(probe);
    expect(restored.state).toBe("closed");
  });

  it("probeTimeoutMs: Infinity waits for ever, and survives JSON", () => {
    const clock = new ManualClock();
    const b = new Breaker({
      engine,
      now: clock.now,
      trip: { consecutiveFailures: 1 },
      openMs: 10,
      probeTimeoutMs: Number.POSITIVE_INFINITY,
    });
    b.reject(b.tryAcquire());
    clock.t = 10;
    expect(b.tryAcquire()).toBeGreaterThan(0);
    clock.t = 1e12;
    expect(b.state).toBe("half-open");
    const restored = new Breaker({
      engine,
      now: clock.now,
      initialState: JSON.parse(JSON.stringify(b.toJSON())),
    });
    expect((restored.toJSON().policy as { probeTimeoutMs: number }).probeTimeoutMs).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(() => new Breaker({ trip: { consecutiveFailures: 1 }, probeTimeoutMs: 0 })).toThrow(
      /probeTimeoutMs must be a number > 0 \(Infinity waits for ever\), got 0/,
    );
  });
});

describe.each(engines)("failure ratio and slow-call ratio together on the %s engine", (engine) => {
  const make = () => {
    let now = 0;
    const breaker = new Breaker({
      engine,
      now: () => now,
      trip: { failureRatio: 0.5, slowCallRatio: 0.6, slowCallMs: 100, minRequests: 5 },
      openMs: 1000,
    });
    return { breaker, advance: (ms: number) => (now += ms) };
  };

  it("trips on failures alone", () => {
    const { breaker } = make();
    for (let i = 0; i < 3; i++) breaker.accept(breaker.tryAcquire());
    breaker.reject(breaker.tryAcquire());
    expect(breaker.state).toBe("closed");
    breaker.reject(breaker.tryAcquire()); // 2/5 failures, 0/5 slow
    expect(breaker.state).toBe("closed");
    breaker.reject(breaker.tryAcquire()); // 3/6
    expect(breaker.state).toBe("open");
  });

  it("trips on slow calls alone, successes every one", () => {
    const { breaker } = make();
    breaker.accept(breaker.tryAcquire());
    breaker.accept(breaker.tryAcquire());
    for (let i = 0; i < 2; i++) breaker.accept(breaker.tryAcquire(), 150);
    expect(breaker.state).toBe("closed");
    breaker.accept(breaker.tryAcquire(), 150); // 3/5 slow, no failure
    expect(breaker.state).toBe("open");
    expect(breaker.toJSON().policy).toMatchObject({
      trip: { failureRatio: 0.5, slowCallRatio: 0.6, slowCallMs: 100, minRequests: 5 },
    });
  });

  it("half-open: a slow probe opens it again; options are checked", () => {
    const { breaker, advance } = make();
    for (let i = 0; i < 5; i++) breaker.reject(breaker.tryAcquire());
    advance(1000);
    breaker.accept(breaker.tryAcquire(), 150);
    expect(breaker.state).toBe("open");
    expect(
      () => new Breaker({ engine, trip: { failureRatio: 0.5, slowCallRatio: 2, slowCallMs: 1 } }),
    ).toThrow(/trip.slowCallRatio must be/);
    expect(
      () => new Breaker({ engine, trip: { failureRatio: 0.5, slowCallRatio: 0.5 } as never }),
    ).toThrow(/trip.slowCallMs/);
    expect(
      () => new Breaker({ engine, trip: { failureRatio: 0.5, failureCount: 3 } as never }),
    ).toThrow(/trip must name exactly one of/);
  });
});
