// Reliability: bad input, clock anomalies, counter overflow, memory and key limits, properties.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { registerBreakerBox } from "../src/adapters/prometheus.js";
import {
  ADAPTIVE_HEADER_SIZE,
  BUCKET_FAILURE,
  BUCKET_SIZE,
  BUCKET_SUCCESS,
  SLOT_ACCEPTS,
  SLOT_TOTAL,
  SLOTS_OFFSET,
  STATE_HALF_OPEN,
  STATE_OPEN,
  TS_IN_FLIGHT,
  TS_OPEN_UNTIL,
  TS_STATE,
} from "../src/core/layout.js";
import { checkPolicy } from "../src/facade/check-options.js";
import { Permits } from "../src/facade/permits.js";
import { Breaker, BreakerBox } from "../src/index.js";
import { decide, settle } from "../src/store/hot-path.js";
import { adaptiveSlot, engines, localStore, ManualClock, usedBytes } from "./helpers.js";

type Case = [what: string, run: () => unknown, type: ErrorConstructor, message: RegExp];

const breaker = new Breaker({ engine: "js" });
const three = new Breaker({ engine: "js", trip: { consecutiveFailures: 3 } });
const box = new BreakerBox({ engine: "js" });
const bad = {
  types: ["a string", true, null, {}, [], () => 1, 10n],
  numbers: [Number.NaN, Infinity, -Infinity, -1, 0, 1.5, 2 ** 53],
};

/** The catalogue: every public option and argument, each wrong way, and what it must throw. */
const catalogue: Case[] = [];
const option = (
  name: string,
  value: unknown,
  extra: object,
  type: ErrorConstructor,
  message: RegExp,
) =>
  catalogue.push([
    `${name} = ${String(typeof value === "bigint" ? `${value}n` : (JSON.stringify(value) ?? value))}`,
    () => new Breaker({ engine: "js", ...extra, [name]: value } as never),
    type,
    message,
  ]);
for (const [name, extra, valid] of [
  ["windowMs", {}, (x: number) => x > 0 && x < Infinity && x / 40 >= 1],
  ["buckets", {}, (x: number) => Number.isInteger(x) && x >= 1 && x <= 255],
  ["k", {}, (x: number) => x >= 1 && x < Infinity],
  ["minK", {}, (x: number) => x >= 1 && x <= 1.5],
  ["protection", {}, (x: number) => x >= 0 && x < Infinity],
  ["forcePassMs", {}, (x: number) => x >= 0],
  ["outageBuckets", {}, (x: number) => Number.isInteger(x) && x >= 1 && x <= 40],
  ["seed", {}, (x: number) => Number.isInteger(x) && x >= 0 && x < 2 ** 32],
  ["dropReportMs", {}, (x: number) => x >= 0 && x < Infinity],
  ["openMs", { policy: "three-state" }, (x: number) => x > 0 && x < Infinity],
  ["backoff", { policy: "three-state" }, (x: number) => x >= 1 && x < Infinity],
  ["maxOpenMs", { policy: "three-state", openMs: 1 }, (x: number) => x >= 1 && x < Infinity],
  [
    "halfOpenMaxCalls",
    { policy: "three-state" },
    (x: number) => Number.isInteger(x) && x >= 1 && x <= 65535,
  ],
  [
    "halfOpenSuccesses",
    { policy: "three-state" },
    (x: number) => Number.isInteger(x) && x >= 1 && x <= 65535,
  ],
  [
    "windowCalls",
    { trip: { failureRatio: 0.5 } },
    (x: number) => Number.isInteger(x) && x >= 1 && x <= 65535,
  ],
] as const) {
  for (const value of bad.types)
    option(name, value, extra, TypeError, new RegExp(`${name} must be a number, got`));
  for (const value of bad.numbers) {
    if (!valid(value))
      option(
        name,
        value,
        extra,
        RangeError,
        new RegExp(`${name}.* got ${Number.isNaN(value) ? "NaN" : ""}`),
      );
  }
}
for (const [trip, message] of [
  [{ failureRatio: 0 }, /trip.failureRatio must be in \(0, 1\], got 0/],
  [{ failureRatio: Number.NaN }, /trip.failureRatio must be a number, got NaN/],
  [{ failureCount: 1.5 }, /trip.failureCount must be an integer/],
  [
    { failureCount: 2, minRequests: 0 },
    /trip.minRequests must be an integer in \[1, 4294967295\], got 0/,
  ],
  [{ slowCallRatio: 0.5, slowCallMs: -1 }, /trip.slowCallMs must be a finite number ≥ 0, got -1/],
  [{ slowCallRatio: 0.5, slowCallMs: "1s" }, /trip.slowCallMs must be a number, got "1s"/],
  [{}, /exactly one of/],
  [{ consecutiveFailures: 2, extra: 1 }, /trip has an unknown option "extra"/],
] as const)
  catalogue.push([
    `trip ${JSON.stringify(trip)}`,
    () => new Breaker({ engine: "js", trip } as never),
    Object.hasOwn(trip, "extra") ||
    Object.keys(trip).length === 0 ||
    (trip as { slowCallMs?: unknown }).slowCallMs === "1s"
      ? TypeError
      : RangeError,
    message,
  ]);
catalogue.push(
  ["trip: 5", () => new Breaker({ trip: 5 } as never), TypeError, /trip must be an object, got 5/],
  [
    "unknown option",
    () => new Breaker({ tripp: {} } as never),
    TypeError,
    /unknown option "tripp"/,
  ],
  [
    "policy: 'other'",
    () => new Breaker({ policy: "other" } as never),
    RangeError,
    /policy must be 'adaptive' or 'three-state'/,
  ],
  [
    "recovery: 'slow'",
    () => new Breaker({ recovery: "slow" } as never),
    RangeError,
    /recovery must be 'go-zero' or 'fast', got "slow"/,
  ],
  [
    "outageBuckets with go-zero",
    () => new Breaker({ recovery: "go-zero", outageBuckets: 2 }),
    TypeError,
    /outageBuckets applies to recovery: 'fast' only/,
  ],
  [
    "engine: 'gpu'",
    () => new Breaker({ engine: "gpu" } as never),
    RangeError,
    /engine must be 'wasm', 'js' or 'auto', got "gpu"/,
  ],
  ["now: 5", () => new Breaker({ now: 5 } as never), TypeError, /now must be a function/],
  [
    "onDrop: 'log'",
    () => new Breaker({ onDrop: "log" } as never),
    TypeError,
    /onDrop must be a function, got "log"/,
  ],
  [
    "options: 'fast'",
    () => new Breaker("fast" as never),
    TypeError,
    /Breaker options must be an object, got "fast"/,
  ],
  [
    "box options: []",
    () => new BreakerBox([] as never),
    TypeError,
    /BreakerBox options must be an object, got an array/,
  ],
  [
    "maxKeys: 0",
    () => new BreakerBox({ maxKeys: 0 }),
    RangeError,
    /maxKeys must be an integer in \[1, 4294967296\], got 0/,
  ],
  [
    "maxKeys: '10'",
    () => new BreakerBox({ maxKeys: "10" } as never),
    TypeError,
    /maxKeys must be a number, got "10"/,
  ],
  [
    "maxBytes: 1000",
    () => new BreakerBox({ maxBytes: 1000 }),
    RangeError,
    /maxBytes must be an integer in \[65536, 4294967296\], got 1000/,
  ],
  ["box.get(42)", () => box.get(42 as never), TypeError, /key must be a string, got number/],
  [
    "box.get(key, { k: 0 })",
    () => box.get("new-key", { k: 0 }),
    RangeError,
    /k must be a finite number ≥ 1, got 0/,
  ],
  [
    "box.get(key, { seed: 1 })",
    () => box.get("new-key", { seed: 1 } as never),
    TypeError,
    /unknown option "seed"/,
  ],
  [
    "initialState: {}",
    () => new Breaker({ initialState: {} } as never),
    TypeError,
    /initialState must be a snapshot/,
  ],
  [
    "reject(token, reason, -5)",
    () => three.reject(three.tryAcquire(), "x", -5),
    RangeError,
    /openForMs must be a finite number ≥ 0, got -5/,
  ],
  [
    "reject(token, reason, NaN)",
    () => three.reject(three.tryAcquire(), "x", Number.NaN),
    RangeError,
    /openForMs must be a finite number ≥ 0, got NaN/,
  ],
  [
    "adaptive reject(…, openForMs)",
    () => breaker.reject(breaker.tryAcquire(), "x", 10),
    TypeError,
    /needs a three-state breaker/,
  ],
  [
    "accept(token, -1)",
    () => breaker.accept(breaker.tryAcquire(), -1),
    RangeError,
    /durationMs must be a finite number ≥ 0, got -1/,
  ],
  [
    "do(fn, { acceptable: 1 })",
    () => breaker.do(() => 1, { acceptable: 1 } as never),
    TypeError,
    /acceptable must be a function, got 1/,
  ],
  [
    "do(fn, { fallback: 'x' })",
    () => breaker.do(() => 1, { fallback: "x" } as never),
    TypeError,
    /fallback must be a function, got "x"/,
  ],
  ["do('fn')", () => breaker.do("fn" as never), TypeError, /fn must be a function, got "fn"/],
  [
    "do(fn, { signal: {} })",
    () => breaker.do(() => 1, { signal: {} } as never),
    TypeError,
    /signal must be an AbortSignal/,
  ],
  [
    "onStateChange(5)",
    () => three.onStateChange(5 as never),
    TypeError,
    /listener must be a function, got number/,
  ],
  [
    "prometheus prefix",
    () => registerBreakerBox(box, { prefix: "1x" }),
    RangeError,
    /prefix must be a valid Prometheus metric name prefix/,
  ],
);

describe("bad input catalogue", () => {
  it(`holds ${catalogue.length} cases`, () => {
    expect(catalogue.length).toBeGreaterThan(150);
  });

  it.each(catalogue)("%s → a clear error, nothing else changed", (_, run, type, message) => {
    const before = [breaker.stats(), three.stats(), box.size];
    let error: unknown;
    try {
      run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
    expect([breaker.stats(), three.stats(), box.size]).toEqual(before);
  });
});

describe.each(engines)("clock anomalies on the %s engine", (engine) => {
  it("backwards, standing still, hours ahead, 2^53 and NaN: no exception, no corruption", () => {
    let t = 1_000_000;
    const b = new Breaker({ engine, now: () => t, recovery: "go-zero" });
    const run = (n: number) => {
      for (let i = 0; i < n; i++) b.accept(b.tryAcquire());
    };
    run(10);
    t = 0; // backwards: counts as standing still
    run(10);
    expect(b.stats().successes).toBe(20);
    t = Number.NaN; // counts as no change
    run(10);
    expect(b.stats().successes).toBe(30);
    t = 1_000_000 + 3 * 3_600_000; // hours ahead: the window is empty
    expect(b.stats().requests).toBe(0);
    run(5);
    t = 2 ** 53; // past 2^31 buckets the bucket number wraps: the window empties or stands still (documented)
    run(5);
    expect([5, 10]).toContain(b.stats().successes);
    const at = b.stats().successes;
    t = 0;
    run(5);
    expect(b.stats().successes).toBe(at + 5); // and the clock cannot come back from there
    expect(b.stats().failures).toBe(0);
  });

  it("a clock that throws surfaces to the caller and leaves the breaker as it was", () => {
    let fail = false;
    const b = new Breaker({
      engine,
      now: () => {
        if (fail) throw new Error("clock broke");
        return 0;
      },
    });
    b.accept(b.tryAcquire());
    fail = true;
    expect(() => b.tryAcquire()).toThrow("clock broke");
    fail = false;
    expect(b.stats().successes).toBe(1);
  });
});

describe.each(engines)("counter overflow on the %s engine", (engine) => {
  it("bucket counters and window sums saturate at 2^32 − 1; the ratio stays right", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    const u32 = () => new Uint32Array(s.memory.buffer);
    const bucket = s.slot + ADAPTIVE_HEADER_SIZE; // the current bucket (offset 0)
    u32()[(bucket + BUCKET_SUCCESS) / 4] = 2 ** 32 - 3;
    u32()[(s.slot + SLOT_ACCEPTS) / 4] = 2 ** 32 - 3;
    u32()[(s.slot + SLOT_TOTAL) / 4] = 2 ** 32 - 3;
    s.success(10);
    expect(u32()[(bucket + BUCKET_SUCCESS) / 4]).toBe(2 ** 32 - 1);
    expect(u32()[(s.slot + SLOT_TOTAL) / 4]).toBe(2 ** 32 - 1);
    u32()[(bucket + BUCKET_FAILURE) / 4] = 2 ** 32 - 2;
    clock.t = 250; // a roll re-derives the sums from the buckets: they saturate too
    s.failure(5);
    expect(u32()[(s.slot + SLOT_TOTAL) / 4]).toBe(2 ** 32 - 1);
    expect(u32()[(s.slot + ADAPTIVE_HEADER_SIZE + BUCKET_SIZE + BUCKET_FAILURE) / 4]).toBe(5);
    const p = s.probability();
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
  });
});

describe.each(engines)("memory and keys on the %s engine", (engine) => {
  it("the memory limit gives a clear error and loses nothing", () => {
    const box = new BreakerBox({ engine, maxBytes: 2 ** 17 }); // 128 KiB: 32 KiB of tables, then 512-byte slots
    const made: string[] = [];
    let error: unknown;
    try {
      for (let i = 0; i < 1000; i++) {
        const b = box.get(`k${i}`);
        b.reject(b.tryAcquire());
        made.push(`k${i}`);
      }
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/needs \d+ bytes, past its maxBytes of 131072/);
    const fits = Math.floor((2 ** 17 - SLOTS_OFFSET) / 512);
    expect(made.length).toBe(fits);
    expect(box.size).toBe(fits);
    for (const key of made) expect(box.get(key).stats().failures).toBe(1);
    box.delete("k0");
    expect(() => box.get("again")).not.toThrow(); // the freed slot serves the new key
  });

  it("with maxKeys, a flood of unique keys keeps the box bounded; used breakers get a second chance", () => {
    const box = new BreakerBox({ engine, maxKeys: 100 });
    const hot = box.get("hot");
    hot.reject(hot.tryAcquire(), "kept");
    for (let i = 0; i < 10_000; i++) {
      box.get(`/random/${i}`);
      if (i % 50 === 0) hot.tryAcquire(); // in use: never the least recently used
    }
    expect(box.size).toBe(100);
    expect(box.has("hot")).toBe(true);
    expect(hot.stats().reasons).toEqual(["kept"]);
    const bytes = box.bytesUsed;
    for (let i = 0; i < 10_000; i++) box.get(`/more/${i}`);
    expect(box.bytesUsed).toBe(bytes); // evicted slots are reused
  });
});

describe.each(engines)("properties on the %s engine", (engine) => {
  const policies = [checkPolicy("p", { recovery: "go-zero" }), checkPolicy("p", {})];

  it("adaptive: drop probability in [0, 1]; window sums equal the live buckets; only successes never drop", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(3), fc.nat(400)), { maxLength: 300 }),
        fc.nat(1),
        fc.boolean(),
        (ops, which, onlySuccesses) => {
          const clock = new ManualClock();
          const memory = localStore(engine, clock.now, 1, 4096);
          const slot = memory.allocate(memory.policy(policies[which]));
          for (const [op, ms] of ops) {
            clock.t += ms;
            if (op === 0) {
              const passed = memory.core.allow(slot, clock.t) === 1;
              if (onlySuccesses) expect(passed).toBe(true);
            } else {
              memory.core.record(
                slot,
                memory.generation(slot),
                onlySuccesses ? 0 : op % 2,
                Number.NaN,
                clock.t,
              );
            }
            const p = memory.core.dropProbability(slot, clock.t);
            expect(p >= 0 && p <= 1).toBe(true);
            const u32 = memory.u32;
            let total = 0;
            let accepts = 0;
            for (let i = 0; i < 40; i++) {
              const bucket = slot + ADAPTIVE_HEADER_SIZE + i * BUCKET_SIZE;
              accepts += u32[(bucket + BUCKET_SUCCESS) / 4];
              total +=
                u32[(bucket + BUCKET_SUCCESS) / 4] +
                u32[(bucket + BUCKET_FAILURE) / 4] +
                u32[(bucket + 8) / 4];
            }
            expect(u32[(slot + SLOT_TOTAL) / 4]).toBe(total);
            expect(u32[(slot + SLOT_ACCEPTS) / 4]).toBe(accepts);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("three-state: open never admits before its time; half-open never exceeds its probe cap", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(3), fc.nat(300)), { maxLength: 300 }), (ops) => {
        const clock = new ManualClock();
        const memory = localStore(engine, clock.now, 1, 4096);
        const slot = memory.allocate(
          memory.policy(
            checkPolicy("p", {
              trip: { consecutiveFailures: 2 },
              openMs: 500,
              halfOpenMaxCalls: 2,
              backoff: 1.5,
            }),
          ),
        );
        const tokens: number[] = [];
        for (const [op, ms] of ops) {
          clock.t += ms;
          if (op === 0) {
            const open = memory.u8[slot + TS_STATE] === STATE_OPEN;
            const until = memory.f64[(slot + TS_OPEN_UNTIL) / 8];
            const code = decide(memory, slot) & 15;
            if (open && clock.t < until) expect(code).toBe(0);
            if (code === 1) tokens.push(memory.generation(slot));
            if (memory.u8[slot + TS_STATE] === STATE_HALF_OPEN)
              expect(memory.u16[(slot + TS_IN_FLIGHT) / 2]).toBeLessThanOrEqual(2);
          } else if (tokens.length > 0) {
            settle(memory, slot, tokens.shift()!, op === 1 ? 0 : 1, Number.NaN);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it("a stale or repeated settlement changes nothing", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(2), { maxLength: 100 }), fc.nat(1), (outcomes, which) => {
        const clock = new ManualClock();
        const memory = localStore(engine, clock.now, 1, 4096);
        const slot = memory.allocate(
          memory.policy(
            which === 0 ? policies[0] : checkPolicy("p", { trip: { failureRatio: 0.5 } }),
          ),
        );
        const stale = memory.generation(slot);
        memory.reset(slot);
        for (const outcome of outcomes)
          memory.core.record(slot, memory.generation(slot), outcome, Number.NaN, clock.t);
        const before = usedBytes(memory);
        for (const outcome of outcomes) settle(memory, slot, stale, outcome, Number.NaN);
        expect(usedBytes(memory)).toEqual(before);
      }),
      { numRuns: 60 },
    );
  });
});

describe.each(engines)("a million breakers on the %s engine", (engine) => {
  it("growth to 1,000,000 breakers keeps every breaker's state", () => {
    const box = new BreakerBox({ engine, now: new ManualClock().now, protection: 100 });
    const count = 1_000_000;
    for (let i = 0; i < count; i++) {
      const b = box.get(`k${i}`);
      for (let n = i % 3; n > 0; n--) b.reject(b.tryAcquire());
    }
    expect(box.size).toBe(count);
    let checked = 0;
    let wrong = 0;
    box.forEachStats((key, s) => {
      if (s.failures !== Number(key.slice(1)) % 3) wrong++;
      checked++;
    });
    expect(checked).toBe(count);
    expect(wrong).toBe(0);
  }, 120_000);
});

describe("user callbacks that throw", () => {
  it.each(engines)(
    "a throwing fallback surfaces from do() and leaves the breaker consistent (%s)",
    (engine) => {
      const b = new Breaker({ engine, trip: { consecutiveFailures: 1 } });
      b.reject(b.tryAcquire());
      expect(() =>
        b.do(() => 1, {
          fallback: () => {
            throw new Error("fallback broke");
          },
        }),
      ).toThrow("fallback broke");
      expect(b.state).toBe("open");
      expect(b.counts.failures).toBe(0);
    },
  );
});

describe("lost permits cost no more than themselves", () => {
  it("a token never settled costs its own place: a million pairs after it leave the table as it was", () => {
    const permits = new Permits();
    const lost = permits.issue(64, 1, 0);
    let settled = 0;
    for (let i = 0; i < 1_000_000; i++) if (permits.redeem(permits.issue(64, 1, 0), 64)) settled++;
    expect(settled).toBe(1_000_000);
    expect(permits.places).toBe(64);
    expect(permits.outstanding).toBe(1);
    expect(permits.redeem(lost, 64)).toBe(true); // still there, and still settles
    expect(permits.outstanding).toBe(0);
  });

  it("a thousand lost tokens among ten million pairs: the table stays bounded, nothing throws", () => {
    const permits = new Permits();
    for (let i = 0; i < 10_000_000; i++) {
      const token = permits.issue(16, 0, 0);
      if (i % 10_000 !== 0) permits.redeem(token, 16);
    }
    expect(permits.outstanding).toBe(1000);
    expect(permits.places).toBeLessThanOrEqual(4096);
    expect(permits.expired).toBe(0);
  });

  it("a table full of outstanding tokens at its limit reclaims the oldest at the place, never throws", () => {
    const permits = new Permits(128);
    const first = Array.from({ length: 200 }, () => permits.issue(16, 0, 0));
    expect(permits.places).toBe(128);
    expect(permits.outstanding).toBeLessThanOrEqual(128);
    expect(permits.expired).toBe(200 - permits.outstanding);
    const settled = first.filter((token) => permits.redeem(token, 16)).length;
    expect(settled).toBe(200 - permits.expired); // a reclaimed token settles nothing
    expect(permits.outstanding).toBe(0);
  });
});

describe.each(engines)("lost permits and odd results on the %s engine", (engine) => {
  it("a token settled on a deleted breaker is retired; one of the slot's new owner is not", () => {
    const box = new BreakerBox({ engine });
    const old = box.get("a");
    const tokens = [old.tryAcquire(), old.tryAcquire(), old.tryAcquire()];
    expect(box.tokens.outstanding).toBe(3);
    box.delete("a");
    old.accept(tokens[0]);
    old.reject(tokens[1]);
    old.exclude(tokens[2]);
    expect(box.tokens.outstanding).toBe(0);
    const next = box.get("b"); // takes the freed slot
    const current = next.tryAcquire();
    old.accept(current); // not the deleted breaker's: left for its owner
    expect(box.tokens.outstanding).toBe(1);
    next.accept(current);
    expect(next.stats().successes).toBe(1);
    expect(box.tokens.outstanding).toBe(0);
  });

  it("do() settles a call once whatever fn returns or throws, and the caller sees the original error", async () => {
    const b = new Breaker({ engine, trip: { consecutiveFailures: 100 } });
    const boom = new Error("then threw");
    const thenThrows = {
      // biome-ignore lint/suspicious/noThenProperty: an odd thenable, on purpose
      then: () => {
        throw boom;
      },
    };
    expect(() => b.do(() => thenThrows)).toThrow(boom);
    // biome-ignore lint/suspicious/noThenProperty: an odd thenable, on purpose
    const getterThrows = Object.defineProperty({}, "then", {
      get: () => {
        throw boom;
      },
    });
    expect(() => b.do(() => getterThrows)).toThrow(boom);
    expect(b.counts).toMatchObject({ failures: 2, successes: 0 });
    // A thenable that calls back twice, and both ways, counts once.
    const twice = {
      // biome-ignore lint/suspicious/noThenProperty: an odd thenable, on purpose
      then: (ok: (v: number) => void, fail: (e: unknown) => void) => {
        ok(1);
        ok(2);
        fail(boom);
      },
    };
    expect(() => b.do(() => twice)).toThrow(boom); // its second callback rethrows, through then
    expect(b.counts).toMatchObject({ failures: 2, successes: 1 });
    const bare = Object.create(null);
    await expect(
      b.do(async () => {
        throw bare;
      }),
    ).rejects.toBe(bare);
    const unreadable = new Error("x");
    Object.defineProperty(unreadable, "message", {
      get: () => {
        throw new Error("no");
      },
    });
    let caught: unknown;
    try {
      b.do(() => {
        throw unreadable;
      });
    } catch (error) {
      caught = error; // (a matcher would read its message, which throws)
    }
    expect(caught).toBe(unreadable);
    expect(b.counts.failures).toBe(4);
    expect(b.stats().reasons.slice(-2)).toEqual([
      "(a thrown value that cannot be read as text)",
      "(a thrown value that cannot be read as text)",
    ]);
  });

  it("a clock that answers Infinity or a non-number is an error naming the clock; the breaker is intact", () => {
    let t: unknown = 1000;
    const b = new Breaker({
      engine,
      now: () => t as number,
      trip: { consecutiveFailures: 1 },
      openMs: 50,
    });
    b.reject(b.tryAcquire());
    expect(b.state).toBe("open");
    for (const reading of [
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      "2000",
      new Date(),
      10n,
    ]) {
      t = reading;
      expect(() => b.tryAcquire()).toThrow(
        /the clock \(the now option\) must return a finite number/,
      );
    }
    t = 1010;
    expect(b.tryAcquire()).toBe(0); // still open: nothing moved
    t = 1060;
    expect(b.tryAcquire()).toBeGreaterThan(0); // and it half-opens on time
  });

  it("reject(…, openForMs) holds a huge wait to the policy's maxOpenMs", () => {
    let t = 0;
    const b = new Breaker({
      engine,
      now: () => t,
      trip: { consecutiveFailures: 100 },
      openMs: 1000,
      maxOpenMs: 60_000,
    });
    b.reject(b.tryAcquire(), "429", 1e300);
    expect(b.state).toBe("open");
    expect(b.openUntil).toBe(60_000);
    t = 60_000;
    expect(b.tryAcquire()).toBeGreaterThan(0);
  });

  it("get() that fails evicts nothing and leaks nothing: a bad snapshot, or a box at maxBytes", () => {
    const box = new BreakerBox({ engine, maxKeys: 3, maxBytes: 65536 });
    for (const key of ["a", "b", "c"]) box.get(key);
    const snapshot = box.get("a").toJSON();
    const bad = { ...snapshot, slot: snapshot.slot.slice(0, 20) };
    const bytes = box.bytesUsed;
    expect(() => box.get("d", { initialState: bad })).toThrow(/initialState.slot has/);
    expect([...box.keys()]).toEqual(["a", "b", "c"]);
    expect(box.bytesUsed).toBe(bytes);
    // At the key limit and at maxBytes, a breaker whose slot cannot be made evicts nothing; one
    // whose slot has the size of the breaker it evicts always takes that slot.
    const full = new BreakerBox({ engine, maxKeys: 10, maxBytes: 65536 });
    const big = { buckets: 255, windowMs: 255_000 }; // 3104-byte slots: ten fill the 64 KiB
    for (let i = 0; i < 10; i++) full.get(`k${i}`, big);
    const keys = [...full.keys()];
    expect(() => full.get("other size", { buckets: 200, windowMs: 200_000 })).toThrow(/maxBytes/);
    expect([...full.keys()]).toEqual(keys);
    expect(() => full.get("same size", big)).not.toThrow();
    expect(full.size).toBe(10);
    expect(full.has("same size")).toBe(true);
  });
});

describe.each(engines)("policy records on the %s engine", (engine) => {
  it("per-key options that change on every reload never run out of records: a record none uses serves the next", () => {
    let t = 0;
    const box = new BreakerBox({ engine, now: () => t });
    for (let reload = 0; reload < 1000; reload++) {
      const breaker = box.get(`route-${reload}`, {
        trip: { consecutiveFailures: 1 },
        openMs: 1000 + reload,
      });
      breaker.reject(breaker.tryAcquire());
      expect(breaker.openUntil).toBe(t + 1000 + reload); // each runs its own policy
      box.delete(`route-${reload}`);
      t += 1;
    }
    const bytes = box.bytesUsed;
    for (let reload = 0; reload < 100; reload++) {
      box.get(`again-${reload}`, { trip: { consecutiveFailures: 1 }, openMs: 5000 + reload });
      box.delete(`again-${reload}`);
    }
    expect(box.bytesUsed).toBe(bytes); // freed slots and records reused
  });

  it("a record in use is never written over; 256 in use at once is the limit, with a clear error", () => {
    const t = 1000;
    const box = new BreakerBox({ engine, now: () => t });
    const ts = (openMs: number) => ({ trip: { consecutiveFailures: 1 }, openMs });
    for (let i = 0; i < 255; i++) box.get(`k${i}`, ts(1000 + i)); // with the default: 256 records
    expect(() => box.get("one more", ts(99_999))).toThrow(/at most 256 distinct policies/);
    expect(box.has("one more")).toBe(false);
    box.delete("k7");
    const reused = box.get("one more", ts(99_999));
    reused.reject(reused.tryAcquire());
    expect(reused.openUntil).toBe(t + 99_999);
    const k8 = box.get("k8");
    k8.reject(k8.tryAcquire());
    expect(k8.openUntil).toBe(t + 1008); // k8 kept its own record
    expect(box.stats().length).toBe(255); // the sweep steps over the freed slot by its record's size
  });

  it("sweeps stay right when a freed slot's record serves a policy of the same size", () => {
    const box = new BreakerBox({ engine });
    box.get("a", { buckets: 20, windowMs: 20_000 });
    const b = box.get("b", { buckets: 30, windowMs: 30_000 });
    box.get("c", { buckets: 20, windowMs: 20_000, k: 2 });
    box.delete("a"); // its record stays in use by nobody; c's record differs
    box.delete("c");
    box.get("d", { buckets: 20, windowMs: 20_000, k: 3 }); // takes a freed record and slot of that size
    b.reject(b.tryAcquire());
    const stats = box.stats();
    expect(stats.map((s) => s.key).sort()).toEqual(["b", "d"]);
    expect(stats.find((s) => s.key === "b")?.failures).toBe(1);
    expect(box.dropping()).toBeGreaterThanOrEqual(0);
  });
});
