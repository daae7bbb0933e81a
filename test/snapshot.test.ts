// toJSON() and initialState: a breaker survives a restart, on either engine, across engines.
import { describe, expect, it } from "vitest";
import { LAYOUT_VERSION } from "../src/core/layout.js";
import { Breaker, BreakerBox, type BreakerSnapshot } from "../src/index.js";
import { engines, ManualClock } from "./helpers.js";

describe.each(engines)("snapshots on the %s engine", (engine) => {
  const other = engine === "wasm" ? "js" : "wasm";

  it("an adaptive breaker comes back with its window, on the other engine too, aged by the time since", () => {
    const clock = new ManualClock();
    const breaker = new Breaker({ engine, now: clock.now, seed: 1, windowMs: 4000, buckets: 4 });
    for (let i = 0; i < 30; i++) breaker.accept(breaker.tryAcquire());
    clock.t = 1000;
    for (let i = 0; i < 20; i++) breaker.reject(breaker.tryAcquire(), "boom");
    const snapshot = JSON.parse(JSON.stringify(breaker.toJSON())) as BreakerSnapshot;
    expect(snapshot.layout).toBe(LAYOUT_VERSION);
    const restored = new Breaker({ engine: other, now: clock.now, initialState: snapshot });
    expect(restored.stats()).toMatchObject({
      successes: 30,
      failures: 20,
      reasons: ["boom", "boom", "boom", "boom", "boom"],
    });
    expect(restored.stats().dropRatio).toBe(breaker.stats().dropRatio);
    clock.t = 3500; // restored later: aged by the whole buckets since, to within one bucket
    const later = new Breaker({ engine, now: clock.now, initialState: snapshot });
    expect(later.stats().successes).toBe(30);
    clock.t = 4500; // the bucket at t = 0 has left the 4 s window, the one at t = 1000 has not
    expect(later.stats()).toMatchObject({ successes: 0, failures: 20 });
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 20 });
  });

  it("a three-state breaker comes back open, with its counts, backoff and open-until", () => {
    const clock = new ManualClock();
    const options = {
      engine,
      now: clock.now,
      trip: { consecutiveFailures: 2 },
      openMs: 1000,
      backoff: 2,
    } as const;
    const breaker = new Breaker(options);
    breaker.reject(breaker.tryAcquire());
    breaker.reject(breaker.tryAcquire());
    clock.t = 1000;
    breaker.reject(breaker.tryAcquire()); // the probe fails: open until 3000
    const isolation = breaker.isolate();
    const snapshot = breaker.toJSON();
    const restored = new Breaker({ engine: other, now: clock.now, initialState: snapshot });
    expect(restored.state).toBe("open"); // isolation handles do not travel
    expect(restored.openUntil).toBe(3000);
    clock.t = 3000;
    expect(restored.state).toBe("half-open");
    restored.reject(restored.tryAcquire());
    expect(restored.openUntil).toBe(3000 + 4000); // the backoff went on from where it was
    isolation.release();
  });

  it("restores into a box, and refuses what it cannot read", () => {
    const clock = new ManualClock();
    const breaker = new Breaker({ engine, now: clock.now, policy: "three-state" });
    const snapshot = breaker.toJSON();
    const box = new BreakerBox({ engine, now: clock.now });
    const restored = box.get("restored", { initialState: snapshot });
    expect(restored.state).toBe("closed");
    expect(() => new Breaker({ engine, initialState: { ...snapshot, layout: 1 } })).toThrow(
      `initialState has memory layout version 1; this breakerbox reads version ${LAYOUT_VERSION}`,
    );
    expect(() => new Breaker({ engine, initialState: { format: "other" } as never })).toThrow(
      /must be a snapshot/,
    );
    expect(() => new Breaker({ engine, openMs: 5, initialState: snapshot } as never)).toThrow(
      "Breaker options: openMs 5 disagrees with initialState's policy (openMs: 60000); leave it out or make it agree",
    );
    // Options that agree with the snapshot's policy are accepted beside it, defaults included.
    const agreeing = new Breaker({
      engine,
      initialState: snapshot,
      policy: "three-state",
      trip: { consecutiveFailures: 6 },
      openMs: 60_000,
      timeoutMs: 500,
    } as never);
    expect(agreeing.toJSON().policy).toEqual(snapshot.policy);
    expect(() => box.get("other", { initialState: snapshot, policy: "adaptive" } as never)).toThrow(
      /policy "adaptive" disagrees with initialState's policy \(policy: "three-state"\)/,
    );
    expect(() =>
      box.get("other", { initialState: snapshot, trip: { failureRatio: 0.5 } } as never),
    ).toThrow(/trip \{"failureRatio":0.5\} disagrees/);
    expect(box.has("other")).toBe(false);
    expect(() => new Breaker({ engine, initialState: { ...snapshot, slot: "AAAA" } })).toThrow(
      /initialState.slot has 3 bytes/,
    );
  });
});

describe.each(engines)("snapshots that are not what they claim, on the %s engine", (engine) => {
  /** A snapshot whose slot bytes `edit` changed. */
  const tampered = (
    snapshot: BreakerSnapshot,
    edit: (bytes: Buffer) => unknown,
  ): BreakerSnapshot => {
    const bytes = Buffer.from(snapshot.slot, "base64");
    edit(bytes);
    return { ...snapshot, slot: bytes.toString("base64") };
  };

  it("a ring offset past the window is refused, and no other breaker is touched", () => {
    const clock = new ManualClock();
    const box = new BreakerBox({ engine, now: clock.now });
    const a = box.get("a");
    for (let i = 0; i < 5; i++) a.reject(a.tryAcquire());
    const bystander = box.get("b");
    const before = bystander.stats();
    const bad = tampered(a.toJSON(), (bytes) => {
      bytes[20] = 200; // SLOT_OFFSET: the newest bucket, past the 40 of the window
    });
    expect(() => box.get("c", { initialState: bad })).toThrow(
      /initialState.slot is not a slot of its policy \(bad offset\)/,
    );
    expect(box.has("c")).toBe(false);
    expect(bystander.stats()).toEqual(before);
    expect(() => new Breaker({ engine, initialState: bad })).toThrow(RangeError);
  });

  it("a state, a mode or probes in flight that no call could make are refused", () => {
    const b = new Breaker({ engine, trip: { consecutiveFailures: 1 } });
    b.reject(b.tryAcquire());
    const snapshot = b.toJSON();
    const edits: [string, (bytes: Buffer) => unknown][] = [
      ["state", (bytes) => bytes.writeUInt8(9, 4)],
      ["mode", (bytes) => bytes.writeUInt8(7, 5)],
      ["probes in flight", (bytes) => bytes.writeUInt16LE(3, 6)],
      ["times", (bytes) => bytes.writeDoubleLE(Number.NaN, 24)],
      ["flags", (bytes) => bytes.writeUInt8(0, 1)],
    ];
    for (const [field, edit] of edits) {
      expect(() => new Breaker({ engine, initialState: tampered(snapshot, edit) })).toThrow(
        `(bad ${field})`,
      );
    }
    expect(new Breaker({ engine, initialState: snapshot }).state).toBe("open");
  });

  it("window sums that do not match their buckets or calls are refused", () => {
    const adaptive = new Breaker({ engine });
    for (let i = 0; i < 3; i++) adaptive.reject(adaptive.tryAcquire());
    expect(
      () =>
        new Breaker({
          engine,
          initialState: tampered(adaptive.toJSON(), (bytes) => bytes.writeUInt32LE(1e9, 12)),
        }),
    ).toThrow("(bad sums)");
    const counted = new Breaker({
      engine,
      trip: { failureRatio: 0.9, minRequests: 50 },
      windowCalls: 8,
    });
    for (let i = 0; i < 3; i++) counted.reject(counted.tryAcquire());
    expect(
      () =>
        new Breaker({
          engine,
          initialState: tampered(counted.toJSON(), (bytes) => bytes.writeUInt32LE(2, 64 + 4)),
        }),
    ).toThrow("(bad sums)");
    expect(new Breaker({ engine, initialState: counted.toJSON() }).counts.failures).toBe(3);
  });

  it("Infinity options survive JSON; a savedAt that is not a finite time is refused", () => {
    const b = new Breaker({ engine, forcePassMs: Number.POSITIVE_INFINITY });
    const snapshot = JSON.parse(JSON.stringify(b.toJSON())) as BreakerSnapshot;
    expect((snapshot.policy as { forcePassMs: unknown }).forcePassMs).toBeNull();
    const restored = new Breaker({ engine, initialState: snapshot });
    expect((restored.toJSON().policy as { forcePassMs: number }).forcePassMs).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(
      () => new Breaker({ engine, initialState: { ...snapshot, savedAt: Number.NaN } }),
    ).toThrow(/savedAt must be a finite time/);
  });
});
