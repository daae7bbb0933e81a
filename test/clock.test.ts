// The amortised default clock.
import { describe, expect, it } from "vitest";
import { clockReads, coarseNow } from "../src/clock.js";

describe("default clock", () => {
  it("reads the time far less often than it is asked in a busy loop, and never goes back", () => {
    const before = clockReads();
    let last = coarseNow();
    const started = Date.now();
    let calls = 0;
    while (Date.now() - started < 50) {
      for (let i = 0; i < 10_000; i++) {
        const now = coarseNow();
        expect(now >= last).toBe(true);
        last = now;
        calls++;
      }
    }
    const reads = clockReads() - before;
    expect(reads).toBeLessThan(calls / 100);
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
