// The amortised default clock.
import { describe, expect, it } from "vitest";
import { clockReads, coarseNow } from "../src/store/clock.js";

describe("default clock", () => {
  it("under load reads the time about once per millisecond, and never goes back", () => {
    const before = clockReads();
    let last = coarseNow();
    let backwards = 0;
    let calls = 0;
    const started = performance.now();
    while (performance.now() - started < 100) {
      for (let i = 0; i < 10_000; i++) {
        const now = coarseNow();
        if (now < last) backwards++;
        last = now;
        calls++;
      }
    }
    const elapsed = performance.now() - started;
    const reads = clockReads() - before;
    expect(backwards).toBe(0);
    expect(reads).toBeLessThan(calls / 1000);
    // About one a millisecond once the stride has grown (it doubles from 16 up to the call rate).
    expect(reads).toBeLessThan(elapsed * 3 + 40);
    expect(Math.abs(coarseNow() - Date.now())).toBeLessThan(1000);
  });

  it("reads afresh once the event loop turns", async () => {
    coarseNow();
    const before = clockReads();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const now = coarseNow();
    expect(clockReads()).toBe(before + 1);
    expect(Math.abs(now - (performance.timeOrigin + performance.now()))).toBeLessThan(2);
  });
});
