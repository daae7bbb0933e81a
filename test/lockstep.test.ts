// Both engines driven side by side with random operations: same results, same bytes, every step.
// A third box runs the facade's fast path (decide/settle on the shared memory) over the wasm engine
// and must return the same codes, and hold the same bytes once its pending successes are folded.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KIND_ADAPTIVE } from "../src/core/layout.js";
import { checkPolicy } from "../src/facade/check-options.js";
import { decide, settle } from "../src/store/hot-path.js";
import { firstDifference, localStore, ManualClock } from "./helpers.js";

type Op =
  | { kind: "allow"; slot: number }
  | { kind: "settle"; slot: number; outcome: number; duration: number; stale: boolean }
  | { kind: "advance"; ms: number }
  | { kind: "create"; policy: number }
  | { kind: "reset"; slot: number }
  | { kind: "probe"; slot: number }
  | { kind: "sweep" }
  | { kind: "trip"; slot: number; ms: number }
  | { kind: "mode"; slot: number; mode: number }
  | { kind: "isolate"; slot: number; delta: number }
  | { kind: "force"; slot: number; state: number }
  | { kind: "merge"; slot: number; successes: number; failures: number };

const slotIndex = fc.nat(15);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ kind: fc.constant("allow" as const), slot: slotIndex }) },
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant("settle" as const),
      slot: slotIndex,
      outcome: fc.constantFrom(0, 0, 1, 1, 2),
      duration: fc.oneof(fc.constant(Number.NaN), fc.nat(400)),
      stale: fc.boolean().map((b) => b && Math.random() < 0.1),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.oneof(fc.nat(300), fc.nat(12_000), fc.constant(0)),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("create" as const), policy: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const), slot: slotIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("probe" as const), slot: slotIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("sweep" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("merge" as const),
      slot: slotIndex,
      successes: fc.oneof(fc.constant(0), fc.nat(50)),
      failures: fc.oneof(fc.constant(0), fc.nat(50)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("trip" as const), slot: slotIndex, ms: fc.nat(5000) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("mode" as const), slot: slotIndex, mode: fc.nat(3) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("isolate" as const),
      slot: slotIndex,
      delta: fc.constantFrom(1, -1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("force" as const),
      slot: slotIndex,
      state: fc.nat(2),
    }),
  },
);

const POLICIES = [
  {},
  { windowMs: 1000, buckets: 10, protection: 1 },
  { windowMs: 3000, buckets: 7, k: 2, minK: 1.05, protection: 0, forcePassMs: 100 },
  {
    trip: { consecutiveFailures: 3 },
    openMs: 500,
    backoff: 2,
    maxOpenMs: 3000,
    halfOpenMaxCalls: 2,
  },
  {
    trip: { failureRatio: 0.5, minRequests: 4 },
    windowMs: 2000,
    buckets: 4,
    openMs: 700,
    halfOpenMaxCalls: 3,
    halfOpenSuccesses: 2,
  },
  { trip: { slowCallRatio: 0.5, slowCallMs: 200, minRequests: 3 }, windowCalls: 5, openMs: 300 },
  { recovery: "fast", outageBuckets: 2, windowMs: 2000, buckets: 8, forcePassMs: 300 },
  {
    trip: { failureRatio: 0.6, slowCallRatio: 0.4, slowCallMs: 200, minRequests: 3 },
    windowMs: 1500,
    buckets: 3,
    openMs: 400,
  },
].map((options) => checkPolicy("options", options));
const COUNT_WINDOW_FAILURES = { trip: { failureCount: 3 }, windowCalls: 6, openMs: 400 };

const POLICY_NAMES = [
  "adaptive",
  "adaptive 1 s",
  "adaptive k 2",
  "consecutive",
  "failure ratio",
  "slow calls",
  "fast recovery",
  "both ratios",
  "failure count",
];

/** Boxes with every policy; their first slot is of policy `only` when given. */
function build(engine: "wasm" | "js", clock: ManualClock, seed: number, only?: number) {
  // A small initial memory, so that creating slots grows it during the run.
  const memory = localStore(engine, clock.now, seed, 600);
  const policies = [...POLICIES, checkPolicy("options", COUNT_WINDOW_FAILURES)].map((policy) =>
    memory.policy(policy),
  );
  const slots =
    only === undefined
      ? [memory.allocate(policies[0]), memory.allocate(policies[3])]
      : [memory.allocate(policies[only])];
  return { memory, policies, slots, isolations: new Map<number, number>() };
}

/** One slot of one policy, and operations that stay on it: reaches deep into its states. */
const focusedOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ kind: "allow" as const, slot: 0 }) },
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant("settle" as const),
      slot: fc.constant(0),
      outcome: fc.constantFrom(0, 0, 0, 1, 1, 2),
      duration: fc.oneof(fc.constant(Number.NaN), fc.nat(400)),
      stale: fc.constant(false),
    }),
  },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.nat(800) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("trip" as const),
      slot: fc.constant(0),
      ms: fc.nat(2000),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("mode" as const),
      slot: fc.constant(0),
      mode: fc.nat(3),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("isolate" as const),
      slot: fc.constant(0),
      delta: fc.constantFrom(1, -1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("force" as const),
      slot: fc.constant(0),
      state: fc.nat(2),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "probe" as const, slot: 0 }) },
);

function run(ops: Op[], seed: number, only?: number): void {
  const clock = new ManualClock();
  const wasm = build("wasm", clock, seed, only);
  const js = build("js", clock, seed, only);
  const fast = build("wasm", clock, seed, only);
  const boxes = [wasm, js, fast];
  expect(firstDifference(js.memory, wasm.memory)).toBe(-1);
  for (const step of ops) {
    const count = wasm.slots.length;
    const slot = "slot" in step ? wasm.slots[step.slot % count] : 0;
    const threeState = slot !== 0 && wasm.memory.kindOf(slot) !== KIND_ADAPTIVE;
    switch (step.kind) {
      case "allow": {
        const a = wasm.memory.core.allow(slot, clock.t);
        expect(js.memory.core.allow(slot, clock.t)).toBe(a);
        expect(decide(fast.memory, slot)).toBe(a);
        break;
      }
      case "settle": {
        const generation = (wasm.memory.generation(slot) - (step.stale ? 1 : 0)) & 0xffff;
        const a = wasm.memory.core.record(slot, generation, step.outcome, step.duration, clock.t);
        expect(js.memory.core.record(slot, generation, step.outcome, step.duration, clock.t)).toBe(
          a,
        );
        expect(settle(fast.memory, slot, generation, step.outcome, step.duration)).toBe(a);
        break;
      }
      case "advance":
        clock.t += step.ms;
        break;
      case "create":
        for (const box of boxes) box.slots.push(box.memory.allocate(box.policies[step.policy]));
        expect(js.slots.at(-1)).toBe(wasm.slots.at(-1));
        break;
      case "reset": {
        const a = wasm.memory.reset(slot);
        expect(js.memory.reset(slot)).toBe(a);
        expect(fast.memory.reset(slot)).toBe(a);
        break;
      }
      case "probe": {
        if (threeState) {
          const a = wasm.memory.core.refreshThreeState(slot, clock.t);
          for (const box of [js, fast])
            expect(box.memory.core.refreshThreeState(slot, clock.t)).toBe(a);
        } else {
          const a = wasm.memory.core.dropProbability(slot, clock.t);
          for (const box of [js, fast])
            expect(box.memory.core.dropProbability(slot, clock.t)).toBe(a);
        }
        break;
      }
      case "sweep": {
        const a = wasm.memory.countDropping();
        expect(js.memory.countDropping()).toBe(a);
        expect(fast.memory.countDropping()).toBe(a);
        break;
      }
      case "trip": {
        if (!threeState) break;
        const a = wasm.memory.core.tripThreeState(slot, step.ms, clock.t);
        for (const box of [js, fast])
          expect(box.memory.core.tripThreeState(slot, step.ms, clock.t)).toBe(a);
        break;
      }
      case "mode":
        if (threeState) for (const box of boxes) box.memory.core.setMode(slot, step.mode);
        break;
      case "isolate": {
        const held = wasm.isolations.get(slot) ?? 0;
        if (!threeState || held + step.delta < 0) break;
        for (const box of boxes) {
          box.memory.core.isolate(slot, step.delta);
          box.isolations.set(slot, held + step.delta);
        }
        break;
      }
      case "merge": {
        const a = wasm.memory.core.merge(slot, step.successes, step.failures, clock.t);
        for (const box of [js, fast])
          expect(box.memory.core.merge(slot, step.successes, step.failures, clock.t)).toBe(a);
        break;
      }
      case "force": {
        if (!threeState) break;
        const a = wasm.memory.core.forceState(slot, step.state, clock.t);
        for (const box of [js, fast])
          expect(box.memory.core.forceState(slot, step.state, clock.t)).toBe(a);
        break;
      }
    }
    expect(firstDifference(js.memory, wasm.memory)).toBe(-1);
  }
  // Fold the fast path's pending successes (a sweep folds and rolls every slot, alike on all three).
  for (const box of boxes) box.memory.countDropping();
  expect(firstDifference(fast.memory, wasm.memory)).toBe(-1);
  expect(firstDifference(js.memory, wasm.memory)).toBe(-1);
}

describe("lockstep", () => {
  it("wasm core, TypeScript core and the facade fast path agree step by step, many slots", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 400 }), fc.nat(), (ops, seed) =>
        run(ops, seed),
      ),
      { numRuns: 150 },
    );
  });

  it.each(POLICY_NAMES.map((name, index) => [name, index] as const))(
    "the same, on one slot of policy %s",
    (_, index) => {
      fc.assert(
        fc.property(fc.array(focusedOp, { minLength: 1, maxLength: 300 }), fc.nat(), (ops, seed) =>
          run(ops, seed, index),
        ),
        { numRuns: 150 },
      );
    },
  );
});
