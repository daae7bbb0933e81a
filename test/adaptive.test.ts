// go-zero's adaptive policy with exact expectations, on both engines through the core.
import { describe, expect, it } from "vitest";
import { FLAG_LAST_PASS, SLOT_FLAGS, SLOT_LAST_PASS, SLOT_RNG } from "../src/core/layout.js";
import { adaptiveSlot, engines, ManualClock, usedBytes } from "./helpers.js";
import { GoZeroOracle } from "./oracle.js";

describe.each(engines)("adaptive policy on the %s engine", (engine) => {
  it("never drops while the window holds only successes", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    for (let i = 0; i < 20_000; i++) {
      clock.t = i * 3;
      expect(s.allow()).toBe(true);
      s.success();
    }
    expect(s.probability()).toBe(0);
  });

  it("drop ratio at 100 requests with 50 accepts in a fresh window is 20/101 ≈ 0.198", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    s.success(50);
    s.failure(50);
    // One mixed bucket: no working and no failing run, so no discount and k = 1.5.
    expect(s.probability()).toBeCloseTo(20 / 101, 15);
    expect(s.probability()).toBeCloseTo(0.198, 3);
  });

  it("k decays over trailing failing buckets: w = 1.5 − 0.4·n/40", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    s.success(10);
    for (let n = 1; n <= 10; n++) {
      clock.t = n * 250;
      s.failure(10);
    }
    const w = 1.5 - ((1.5 - 1.1) * 10) / 40;
    expect(s.probability()).toBeCloseTo((110 - 5 - w * 10) / 111, 14);
  });

  it("k stops at minK after a whole window of failing buckets", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    for (let n = 0; n < 40; n++) {
      clock.t = n * 250;
      s.failure(1);
    }
    expect(s.probability()).toBeCloseTo((40 - 5) / 41, 14); // accepts = 0, so w no longer matters
  });

  it("discounts the ratio by the trailing run of working buckets: · (40 − n)/40", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    s.failure(100);
    clock.t = 250;
    s.success(10);
    clock.t = 500;
    s.success(10);
    expect(s.probability()).toBeCloseTo((85 / 121) * (38 / 40), 14);
  });

  it("counts drops in total, as go-zero does", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    s.failure(100);
    let drops = 0;
    for (let i = 0; i < 200; i++) if (!s.allow()) drops++;
    expect(drops).toBeGreaterThan(150);
    const counts = s.memory.statsOf(s.slot);
    expect(counts.drops).toBe(drops);
    expect(counts.requests).toBe(100 + drops);
    expect(counts.failures).toBe(100);
  });

  it("forces one pass when more than forcePassMs passed since the last pass won in a draw", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    const u8 = () => new Uint8Array(s.memory.buffer);
    const f64 = () => new Float64Array(s.memory.buffer);
    s.failure(1000);
    expect(u8()[s.slot + SLOT_FLAGS] & FLAG_LAST_PASS).toBe(0); // no pass yet: no force pass either
    let tries = 0;
    while (!s.allow()) tries++;
    expect(tries).toBeLessThan(100_000);
    expect(u8()[s.slot + SLOT_FLAGS] & FLAG_LAST_PASS).toBe(FLAG_LAST_PASS);
    expect(f64()[(s.slot + SLOT_LAST_PASS) / 8]).toBe(0);
    clock.t = 1001; // strictly more than 1000 ms
    expect(s.allow()).toBe(true);
    expect(f64()[(s.slot + SLOT_LAST_PASS) / 8]).toBe(1001);
  });

  it("lets at least one call a second through a sustained outage", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    s.failure(1000);
    const passes: number[] = [];
    for (let t = 0; t < 9000; t++) {
      clock.t = t;
      if (s.allow()) passes.push(t);
    }
    // The first pass comes from a draw; after it, a pass at least every forcePassMs + 1 ms.
    expect(passes.length).toBeGreaterThanOrEqual(9);
    const gaps = passes.slice(1).map((t, i) => t - passes[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1001);
    expect(gaps.filter((gap) => gap === 1001).length).toBeGreaterThan(0);
  });

  it("recovers once successes return and the failures leave the window", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    for (let t = 0; t < 2000; t += 10) {
      clock.t = t;
      if (s.allow()) s.failure();
    }
    expect(s.probability()).toBeGreaterThan(0.5);
    let healedAt = -1;
    for (let t = 2000; t < 14_000; t += 10) {
      clock.t = t;
      if (s.allow()) s.success();
      if (healedAt < 0 && s.probability() === 0) healedAt = t;
    }
    expect(healedAt).toBeGreaterThan(2000);
    expect(healedAt).toBeLessThanOrEqual(12_000);
    for (let i = 0; i < 1000; i++) expect(s.allow()).toBe(true);
  });

  it("keeps a bucket until the window has moved past it, then forgets it", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    s.failure(7);
    clock.t = 9999;
    expect(s.memory.statsOf(s.slot).failures).toBe(7);
    clock.t = 10_000;
    expect(s.memory.statsOf(s.slot).failures).toBe(0);
    expect(s.memory.statsOf(s.slot).requests).toBe(0);
  });

  it("forgets everything after a gap longer than the window", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    s.failure(50);
    s.success(20);
    clock.t = 3_600_000;
    expect(s.memory.statsOf(s.slot)).toMatchObject({
      requests: 0,
      successes: 0,
      failures: 0,
      drops: 0,
      dropRatio: 0,
    });
  });

  it("treats a clock that goes back as standing still", () => {
    const clock = new ManualClock();
    clock.t = 5000;
    const s = adaptiveSlot(engine, clock);
    s.failure(20);
    clock.t = 1000;
    s.failure(20);
    expect(s.memory.statsOf(s.slot).failures).toBe(40);
  });

  it("ignores a settlement carrying another generation", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    s.success(3);
    const before = usedBytes(s.memory);
    const generation = s.memory.generation(s.slot);
    s.core.recordAdaptive(s.slot, (generation + 1) & 0xffff, 1, 0);
    s.core.recordAdaptive(s.slot, (generation + 1) & 0xffff, 0, 0);
    expect(usedBytes(s.memory)).toEqual(before);
  });

  it("reset clears the window and bumps the generation", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock);
    s.failure(30);
    const generation = s.memory.generation(s.slot);
    s.memory.reset(s.slot);
    expect(s.memory.generation(s.slot)).toBe((generation + 1) & 0xffff);
    expect(s.memory.statsOf(s.slot).requests).toBe(0);
  });

  it("respects every option: windowMs, buckets, k, minK, protection, forcePassMs", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock, {
      windowMs: 1000,
      buckets: 10,
      k: 2,
      minK: 1.2,
      protection: 0,
      forcePassMs: 50,
    });
    s.success(10);
    for (let n = 1; n <= 5; n++) {
      clock.t = n * 100;
      s.failure(10);
    }
    const w = 2 - ((2 - 1.2) * 5) / 10;
    expect(s.probability()).toBeCloseTo((60 - 0 - w * 10) / 61, 14);
    clock.t = 1600; // 1 s window of 100 ms buckets: the success bucket at 0 is gone
    expect(s.memory.statsOf(s.slot).successes).toBe(0);
  });

  it("agrees call for call with an independent model of go-zero", () => {
    const clock = new ManualClock();
    const s = adaptiveSlot(engine, clock, {}, 7);
    const oracle = new GoZeroOracle(
      { buckets: 40, bucketMs: 250, k: 1.5, minK: 1.1, protection: 5, forcePassMs: 1000 },
      0,
      new Uint32Array(s.memory.buffer)[(s.slot + SLOT_RNG) / 4],
    );
    let state = 12345;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 4294967296;
    };
    let failureRate = 0.1;
    for (let step = 0; step < 60_000; step++) {
      clock.t += Math.floor(next() * 4);
      if (step % 5000 === 0) failureRate = next();
      const passed = s.allow();
      expect(passed).toBe(oracle.allow(clock.t));
      if (passed) {
        if (next() < failureRate) {
          s.failure();
          oracle.failure(clock.t);
        } else {
          s.success();
          oracle.success(clock.t);
        }
      }
    }
  });
});

describe.each(engines)("adaptive 'fast' recovery on the %s engine", (engine) => {
  const fast = (clock: ManualClock) => adaptiveSlot(engine, clock, { recovery: "fast" });

  it("in an outage lets one probe through at once and then one per forcePassMs, and counts no drop", () => {
    const clock = new ManualClock();
    const s = fast(clock);
    s.success(100);
    for (let n = 1; n <= 4; n++) {
      clock.t = n * 250;
      s.failure(2); // four failure-only buckets: an outage, whatever the successes before
    }
    const passes: number[] = [];
    for (let t = 1000; t < 4000; t += 10) {
      clock.t = t;
      if (s.allow()) {
        passes.push(t);
        s.failure();
      }
    }
    expect(passes).toEqual([1000, 2010, 3020]);
    expect(s.memory.statsOf(s.slot).drops).toBe(0);
    expect(s.probability()).toBe(1);
  });

  it("recovers with the first successful probe", () => {
    const clock = new ManualClock();
    const s = fast(clock);
    for (let t = 0; t < 60_000; t += 5) {
      clock.t = t;
      if (s.allow()) s.failure();
    }
    let probe = 60_000; // healed: the next probe comes within forcePassMs, and succeeds
    for (clock.t = probe; !s.allow(); clock.t += 5) probe = clock.t + 5;
    expect(probe - 60_000).toBeLessThanOrEqual(1005);
    s.success();
    let passed = 0;
    for (let t = probe + 5; t < probe + 1005; t += 5) {
      clock.t = t;
      if (s.allow()) {
        passed++;
        s.success();
      }
    }
    expect(passed).toBeGreaterThan(190); // ≥ 95 % of 200 within the first second
  });

  it("behaves as go-zero while the window holds successes too (overload)", () => {
    const clock = new ManualClock();
    const a = fast(clock);
    const b = adaptiveSlot(engine, clock, { recovery: "go-zero" });
    for (let t = 0; t < 20_000; t += 2) {
      clock.t = t;
      const x = a.allow();
      expect(b.allow()).toBe(x);
      if (x && t % 6 === 0) {
        a.success();
        b.success();
      } else if (x) {
        a.failure();
        b.failure();
      }
    }
  });
});
