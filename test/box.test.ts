// Keyed breakers sharing one memory.
import { describe, expect, it } from "vitest";
import { BreakerBox } from "../src/index.js";
import { engines, ManualClock } from "./helpers.js";

describe.each(engines)("BreakerBox on the %s engine", (engine) => {
  it("get() creates once and returns the same breaker after", () => {
    const box = new BreakerBox({ engine });
    const a = box.get("GET://users/:id");
    expect(box.get("GET://users/:id")).toBe(a);
    expect(box.size).toBe(1);
    expect(box.has("GET://users/:id")).toBe(true);
    expect(box.has("POST://users")).toBe(false);
    expect(a.key).toBe("GET://users/:id");
    expect(a.engine).toBe(engine);
  });

  it("keeps every breaker's own window while memory grows", () => {
    const clock = new ManualClock();
    const box = new BreakerBox({ engine, now: clock.now });
    const keys = Array.from({ length: 3000 }, (_, i) => `upstream-${i}`);
    for (const [i, key] of keys.entries()) {
      const breaker = box.get(key);
      for (let n = 0; n < i % 7; n++) breaker.accept(breaker.tryAcquire());
      for (let n = 0; n < i % 3; n++) breaker.reject(breaker.tryAcquire(), `e${i}`);
    }
    expect(box.bytesUsed).toBeGreaterThan(3000 * 512);
    for (const [i, key] of keys.entries()) {
      const stats = box.get(key).stats();
      expect(stats.successes).toBe(i % 7);
      expect(stats.failures).toBe(i % 3);
    }
  });

  it("ordinary keys include __proto__, constructor, '' and long Unicode", () => {
    const box = new BreakerBox({ engine });
    const keys = ["__proto__", "constructor", "", "🔥".repeat(500), "toString"];
    for (const key of keys) box.get(key).reject(box.get(key).tryAcquire());
    expect([...box.keys()]).toEqual(keys);
    for (const key of keys) expect(box.get(key).stats().failures).toBe(1);
  });

  it("refuses a key that is not a string", () => {
    const box = new BreakerBox({ engine });
    expect(() => box.get(42 as never)).toThrow(TypeError);
    expect(() => box.get(42 as never)).toThrow("key must be a string, got number");
  });

  it("per-key options give a breaker its own policy", () => {
    const clock = new ManualClock();
    const box = new BreakerBox({ engine, now: clock.now });
    const strict = box.get("strict", { protection: 0, k: 1 });
    const loose = box.get("loose");
    for (const breaker of [strict, loose]) {
      breaker.accept(breaker.tryAcquire());
      breaker.reject(breaker.tryAcquire());
    }
    expect(strict.stats().dropRatio).toBeCloseTo(1 / 3, 15); // (2 − 0 − 1·1) / (2 + 1), one mixed bucket
    expect(loose.stats().dropRatio).toBe(0);
    expect(() => box.get("bad", { buckets: 0 })).toThrow(
      "buckets must be an integer in [1, 255], got 0",
    );
    expect(() => box.get("bad", { seed: 1 } as never)).toThrow('unknown option "seed"');
  });

  it("handles are views: two handles of one key share state, listeners and reasons; a delete retires both", () => {
    const box = new BreakerBox({ engine, policy: "three-state" });
    const first = box.get("a");
    // More breakers than the handle cache holds, so that "a"'s cached handle is replaced.
    for (let i = 0; i < 40_000; i++) box.get(`k${i}`);
    const second = box.get("a");
    expect(second).not.toBe(first);
    const seen: string[] = [];
    first.onStateChange(({ to }) => seen.push(to));
    second.forceOpen();
    expect(first.state).toBe("forced-open");
    expect(seen).toEqual(["forced-open"]);
    first.forceClose();
    expect(second.state).toBe("closed");
    expect(seen).toEqual(["forced-open", "closed"]);
    second.reject(second.tryAcquire(), "through the second");
    expect(first.stats().reasons).toEqual(["through the second"]);
    expect(first.counts.failures).toBe(1);
    const token = first.tryAcquire();
    second.accept(token); // a token is the breaker's, whichever handle settles it
    expect(first.counts.successes).toBe(1);
    expect(box.get("a")).toBe(second); // the cached handle, while it stays in the cache
    box.delete("a");
    expect(() => first.tryAcquire()).toThrow(/deleted from its box/);
    expect(() => second.state).toThrow(/deleted from its box/);
    const fresh = box.get("a");
    expect(fresh.stats()).toMatchObject({ requests: 0, reasons: [] });
    // Handles of the deleted breaker touch nothing of the new one in its place.
    expect(() => second.forceOpen()).toThrow(/deleted from its box/);
    expect(fresh.state).toBe("closed");
  });

  it("delete() frees the slot; the old breaker refuses use; the key starts afresh", () => {
    const clock = new ManualClock();
    const box = new BreakerBox({ engine, now: clock.now });
    const old = box.get("a");
    const token = old.tryAcquire();
    for (let i = 0; i < 50; i++) old.reject(old.tryAcquire());
    expect(box.delete("a")).toBe(true);
    expect(box.delete("a")).toBe(false);
    expect(() => old.tryAcquire()).toThrow(/deleted from its box/);
    expect(() => old.stats()).toThrow(/deleted from its box/);
    old.accept(token); // a settlement after deletion does nothing
    const reused = box.get("b"); // takes the freed slot
    expect(reused.stats()).toMatchObject({ requests: 0, failures: 0 });
    reused.accept(token); // the old breaker's token does not count for the slot's new owner
    expect(reused.stats().requests).toBe(0);
    expect(box.get("a").stats().requests).toBe(0);
  });

  it("dropping() counts the breakers that would drop, in one sweep, skipping deleted ones", () => {
    const clock = new ManualClock();
    const box = new BreakerBox({ engine, now: clock.now, seed: 9 });
    for (let i = 0; i < 100; i++) {
      const breaker = box.get(`k${i}`);
      const failures = i % 10 === 0 ? 50 : 1;
      for (let n = 0; n < failures; n++) breaker.reject(breaker.tryAcquire());
      breaker.accept(breaker.tryAcquire());
    }
    box.get("other", { windowMs: 1000, buckets: 4 }).reject(box.get("other").tryAcquire());
    expect(box.dropping()).toBe(10);
    box.delete("k0");
    expect(box.dropping()).toBe(9);
    clock.t = 20_000; // every window has moved past its failures
    expect(box.dropping()).toBe(0);
  });

  it("do(key, fn) runs through that key's breaker", async () => {
    const box = new BreakerBox({ engine, now: new ManualClock().now });
    expect(box.do("k", () => 5)).toBe(5);
    await expect(
      box.do("k", async () => {
        throw new Error("x");
      }),
    ).rejects.toThrow("x");
    expect(box.get("k").stats()).toMatchObject({ successes: 1, failures: 1 });
  });
});
