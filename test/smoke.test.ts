import { describe, expect, it } from "vitest";
import { Breaker } from "../src/index.js";

describe.each(["wasm", "js"] as const)("smoke %s", (engine) => {
  it("passes when healthy", () => {
    let t = 0;
    const b = new Breaker({ engine, now: () => t, seed: 1 });
    expect(b.engine).toBe(engine);
    for (let i = 0; i < 100; i++) {
      const tok = b.tryAcquire();
      expect(tok).toBeGreaterThan(0);
      b.accept(tok);
      t += 1;
    }
    expect(b.stats().successes).toBe(100);
  });
});
