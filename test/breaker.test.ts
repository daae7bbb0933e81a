// The facade: Breaker, permits, tokens, do(), stats, on both engines.
import { describe, expect, it } from "vitest";
import { Breaker, BreakerOpenError, isBreakerOpenError } from "../src/index.js";
import { engines, ManualClock } from "./helpers.js";

/** A breaker that drops almost everything: 1000 failures in its window. */
function tripped(engine: "wasm" | "js", clock: ManualClock) {
  const breaker = new Breaker({ engine, now: clock.now, seed: 3 });
  for (let i = 0; i < 1000; i++) {
    const token = breaker.tryAcquire();
    if (token !== 0) breaker.reject(token, `failure ${i}`);
  }
  return breaker;
}

describe.each(engines)("Breaker on the %s engine", (engine) => {
  it("runs on the engine asked for", () => {
    expect(new Breaker({ engine }).engine).toBe(engine);
  });

  it("tokens: positive integers while healthy, counted once on accept", () => {
    const clock = new ManualClock();
    const breaker = new Breaker({ engine, now: clock.now });
    for (let i = 0; i < 1000; i++) {
      const token = breaker.tryAcquire();
      expect(Number.isInteger(token) && token > 0).toBe(true);
      breaker.accept(token);
      breaker.accept(token); // doubled: no effect
      breaker.reject(token); // after settlement: no effect
    }
    expect(breaker.stats()).toMatchObject({
      requests: 1000,
      successes: 1000,
      failures: 0,
      drops: 0,
      dropRatio: 0,
    });
  });

  it("counts more successes in one bucket than the pending byte holds", () => {
    const clock = new ManualClock();
    const breaker = new Breaker({ engine, now: clock.now });
    for (let i = 0; i < 5000; i++) breaker.accept(breaker.tryAcquire());
    clock.t = 300;
    for (let i = 0; i < 777; i++) breaker.accept(breaker.tryAcquire());
    expect(breaker.stats().successes).toBe(5777);
  });

  it("ignores tokens that were never issued, or belong to another breaker", () => {
    const clock = new ManualClock();
    const a = new Breaker({ engine, now: clock.now });
    const b = new Breaker({ engine, now: clock.now });
    const token = a.tryAcquire();
    b.accept(token);
    for (const bogus of [0, -1, 1.5, NaN, 2 ** 40, token + 1]) a.reject(bogus);
    expect(a.stats().requests).toBe(0);
    expect(b.stats().requests).toBe(0);
    a.accept(token);
    expect(a.stats().successes).toBe(1);
  });

  it("a permit from before reset() settles nothing", () => {
    const clock = new ManualClock();
    const breaker = new Breaker({ engine, now: clock.now });
    const token = breaker.tryAcquire();
    const permit = breaker.allow()!;
    breaker.reset();
    breaker.reject(token, "late");
    permit.reject("late too");
    expect(breaker.stats()).toMatchObject({ requests: 0, failures: 0 });
  });

  it("allow() returns a permit that settles once", () => {
    const clock = new ManualClock();
    const breaker = new Breaker({ engine, now: clock.now });
    const permit = breaker.allow();
    expect(permit).not.toBeNull();
    permit!.reject("boom");
    permit!.reject("again");
    permit!.accept();
    expect(breaker.stats()).toMatchObject({
      requests: 1,
      successes: 0,
      failures: 1,
      reasons: ["boom"],
    });
  });

  it("drops with null / 0 once failures dominate, and counts the drops", () => {
    const clock = new ManualClock();
    const breaker = tripped(engine, clock);
    let dropped = 0;
    for (let i = 0; i < 100; i++) if (breaker.allow() === null) dropped++;
    for (let i = 0; i < 100; i++) if (breaker.tryAcquire() === 0) dropped++;
    expect(dropped).toBeGreaterThan(190);
    expect(breaker.stats().drops).toBeGreaterThanOrEqual(dropped);
    expect(breaker.stats().dropRatio).toBeGreaterThan(0.9);
  });

  it("keeps the last 5 failure reasons, oldest first", () => {
    const clock = new ManualClock();
    const breaker = new Breaker({ engine, now: clock.now, protection: 100 }); // nothing dropped
    for (let i = 1; i <= 7; i++) breaker.reject(breaker.tryAcquire(), `reason ${i}`);
    expect(breaker.stats().reasons).toEqual([
      "reason 3",
      "reason 4",
      "reason 5",
      "reason 6",
      "reason 7",
    ]);
  });

  it("with the default clock, counts every settlement across clock readings", async () => {
    const breaker = new Breaker({ engine });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 2000; i++) breaker.accept(breaker.tryAcquire());
      await new Promise((resolve) => setTimeout(resolve, 3)); // lets the clock take new readings
    }
    expect(breaker.stats()).toMatchObject({ requests: 10_000, successes: 10_000, dropRatio: 0 });
  });

  it("replays exactly from the same seed and clock", () => {
    const run = () => {
      const clock = new ManualClock();
      const breaker = new Breaker({ engine, now: clock.now, seed: 99 });
      const decisions: number[] = [];
      for (let i = 0; i < 3000; i++) {
        clock.t = i * 7;
        const token = breaker.tryAcquire();
        decisions.push(token === 0 ? 0 : 1);
        if (token !== 0) i % 3 === 0 ? breaker.accept(token) : breaker.reject(token);
      }
      return decisions;
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(first.includes(0)).toBe(true);
  });

  describe("do()", () => {
    it("returns fn's value and counts a success", () => {
      const breaker = new Breaker({ engine, now: new ManualClock().now });
      expect(breaker.do(() => 42)).toBe(42);
      expect(breaker.stats().successes).toBe(1);
    });

    it("rethrows fn's error and counts a failure with its message", () => {
      const breaker = new Breaker({ engine, now: new ManualClock().now });
      expect(() =>
        breaker.do(() => {
          throw new Error("backend down");
        }),
      ).toThrow("backend down");
      expect(breaker.stats()).toMatchObject({ failures: 1, reasons: ["backend down"] });
    });

    it("acceptable(error) turns an error into a success, still rethrown", () => {
      const breaker = new Breaker({ engine, now: new ManualClock().now });
      const notFound = new Error("404");
      expect(() =>
        breaker.do(
          () => {
            throw notFound;
          },
          { acceptable: (e) => e === notFound },
        ),
      ).toThrow("404");
      expect(breaker.stats()).toMatchObject({ successes: 1, failures: 0 });
    });

    it("a throwing acceptable counts a failure and surfaces its own error", () => {
      const breaker = new Breaker({ engine, now: new ManualClock().now });
      const run = () =>
        breaker.do(
          () => {
            throw new Error("fn");
          },
          {
            acceptable: () => {
              throw new Error("acceptable broke");
            },
          },
        );
      expect(run).toThrow("acceptable broke");
      expect(breaker.stats()).toMatchObject({ successes: 0, failures: 1 });
    });

    it("async: resolves with fn's value; a rejection counts a failure", async () => {
      const breaker = new Breaker({ engine, now: new ManualClock().now });
      await expect(breaker.do(async () => "ok")).resolves.toBe("ok");
      await expect(
        breaker.do(async () => {
          throw new Error("async boom");
        }),
      ).rejects.toThrow("async boom");
      await expect(
        breaker.do(() => Promise.reject(new Error("plain promise")), { acceptable: () => true }),
      ).rejects.toThrow();
      expect(breaker.stats()).toMatchObject({ successes: 2, failures: 1 });
    });

    it("dropped: BreakerOpenError with brand and guard, thrown or rejected", async () => {
      const clock = new ManualClock();
      const breaker = tripped(engine, clock);
      let syncError: unknown;
      let asyncError: unknown;
      for (let i = 0; i < 50 && syncError === undefined; i++) {
        try {
          breaker.do(() => 1);
        } catch (error) {
          syncError = error;
        }
      }
      for (let i = 0; i < 50 && asyncError === undefined; i++) {
        try {
          await breaker.do(async () => 1);
        } catch (error) {
          asyncError = error;
        }
      }
      for (const error of [syncError, asyncError]) {
        expect(error).toBeInstanceOf(BreakerOpenError);
        expect(error).toBeInstanceOf(Error);
        expect(isBreakerOpenError(error)).toBe(true);
        expect((error as Error).message).toBe("circuit breaker is open");
        expect((error as Error).name).toBe("BreakerOpenError");
      }
      expect(isBreakerOpenError(new Error("circuit breaker is open"))).toBe(false);
      expect(isBreakerOpenError({ [Symbol.for("breakerbox.BreakerOpenError")]: true })).toBe(true); // another copy's error
    });

    it("dropped: fallback(error) runs instead, and fn does not", () => {
      const clock = new ManualClock();
      const breaker = tripped(engine, clock);
      let calls = 0;
      let fallbacks = 0;
      for (let i = 0; i < 100; i++) {
        const value = breaker.do(
          () => {
            calls++;
            return "live";
          },
          {
            fallback: (error) => {
              expect(isBreakerOpenError(error)).toBe(true);
              fallbacks++;
              return "cached";
            },
          },
        );
        expect(["live", "cached"]).toContain(value);
      }
      expect(fallbacks).toBeGreaterThan(90);
      expect(calls + fallbacks).toBe(100);
    });

    it("an aborted signal returns early without calling fn or counting", async () => {
      const breaker = new Breaker({ engine, now: new ManualClock().now });
      const controller = new AbortController();
      controller.abort(new Error("caller gave up"));
      let called = false;
      expect(() =>
        breaker.do(
          () => {
            called = true;
          },
          { signal: controller.signal },
        ),
      ).toThrow("caller gave up");
      await expect(
        breaker.do(
          async () => {
            called = true;
          },
          { signal: controller.signal },
        ),
      ).rejects.toThrow("caller gave up");
      expect(called).toBe(false);
      expect(breaker.stats().requests).toBe(0);
    });
  });
});

describe("options", () => {
  const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
    [{ windowMs: 0 }, RangeError, /windowMs must be a finite number > 0, got 0/],
    [{ windowMs: "10s" }, TypeError, /windowMs must be a number, got "10s"/],
    [{ windowMs: Infinity }, RangeError, /windowMs/],
    [{ buckets: 0 }, RangeError, /buckets must be an integer in \[1, 255\], got 0/],
    [{ buckets: 2.5 }, RangeError, /buckets must be an integer/],
    [{ buckets: 256 }, RangeError, /buckets/],
    [{ windowMs: 10, buckets: 40 }, RangeError, /windowMs \/ buckets must be ≥ 1 ms/],
    [{ k: 0.5 }, RangeError, /k must be a finite number ≥ 1, got 0.5/],
    [{ k: NaN }, RangeError, /k must be a number, got NaN/],
    [{ minK: 2 }, RangeError, /minK must be in \[1, k = 1.5\], got 2/],
    [{ protection: -1 }, RangeError, /protection must be a finite number ≥ 0, got -1/],
    [{ forcePassMs: -5 }, RangeError, /forcePassMs/],
    [{ seed: -1 }, RangeError, /seed must be an integer in \[0, 4294967295\], got -1/],
    [{ seed: 1.5 }, RangeError, /seed/],
    [{ engine: "gpu" }, RangeError, /engine must be 'wasm', 'js' or 'auto', got "gpu"/],
    [{ now: 5 }, TypeError, /now must be a function/],
    [{ windowMS: 1000 }, TypeError, /unknown option "windowMS"/],
    [42, TypeError, /Breaker options must be an object, got 42/],
    [null, TypeError, /must be an object, got null/],
  ];
  it.each(bad)("%j is refused", (options, type, message) => {
    expect(() => new Breaker(options as never)).toThrow(type);
    expect(() => new Breaker(options as never)).toThrow(message);
  });

  it("accepts go-zero's defaults, Infinity for forcePassMs, and k = minK", () => {
    expect(
      () => new Breaker({ forcePassMs: Infinity, k: 1.1, minK: 1.1, protection: 0 }),
    ).not.toThrow();
    expect(new Breaker().engine).toBe("wasm");
  });
});

describe("the drop error", () => {
  it("is one frozen BreakerOpenError per breaker, carrying its key", async () => {
    const { BreakerBox } = await import("../src/index.js");
    const clock = new ManualClock();
    const box = new BreakerBox({ now: clock.now, seed: 5 });
    const breaker = box.get("upstream-a");
    for (let i = 0; i < 1000; i++) breaker.reject(breaker.tryAcquire());
    const seen = new Set<unknown>();
    for (let i = 0; i < 200; i++)
      breaker.do(() => 0, {
        fallback: (error) => {
          seen.add(error);
          return 0;
        },
      });
    expect(seen.size).toBe(1);
    const [error] = seen as Set<BreakerOpenError>;
    expect(Object.isFrozen(error)).toBe(true);
    expect(error.key).toBe("upstream-a");
  });
});
