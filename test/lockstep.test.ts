// Both engines driven side by side with random operations: same decisions, same bytes, every step.
// A third box runs the facade's fast path (decide/settle on the shared memory) over the wasm engine
// and must take the same decisions, and hold the same bytes once its pending successes are folded.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoxMemory } from "../src/box-memory.js";
import { adaptivePolicy } from "../src/options.js";
import { firstDifference, ManualClock } from "./helpers.js";

type Op =
  | { kind: "allow"; slot: number }
  | { kind: "settle"; slot: number; failure: boolean }
  | { kind: "advance"; ms: number }
  | { kind: "create"; policy: number }
  | { kind: "reset"; slot: number }
  | { kind: "probe"; slot: number }
  | { kind: "sweep" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ kind: fc.constant("allow" as const), slot: fc.nat(15) }) },
  { weight: 30, arbitrary: fc.record({ kind: fc.constant("settle" as const), slot: fc.nat(15), failure: fc.boolean() }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.oneof(fc.nat(300), fc.nat(12_000), fc.constant(0)) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("create" as const), policy: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const), slot: fc.nat(15) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("probe" as const), slot: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("sweep" as const) }) },
);

const POLICIES = [
  {},
  { windowMs: 1000, buckets: 10, protection: 1 },
  { windowMs: 3000, buckets: 7, k: 2, minK: 1.05, protection: 0, forcePassMs: 100 },
].map((options) => adaptivePolicy(options));

function build(engine: "wasm" | "js", clock: ManualClock, seed: number) {
  // A small initial memory, so that creating slots grows it during the run.
  const memory = new BoxMemory(engine, clock.now, seed, 600);
  const policies = POLICIES.map((policy) => memory.policy(policy));
  return { memory, policies, slots: [memory.allocate(policies[0])] };
}

describe("lockstep", () => {
  it("wasm core, TypeScript core and the facade fast path agree step by step", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 400 }), fc.nat(), (ops, seed) => {
        const clock = new ManualClock();
        const wasm = build("wasm", clock, seed);
        const js = build("js", clock, seed);
        const fast = build("wasm", clock, seed);
        expect(firstDifference(js.memory, wasm.memory)).toBe(-1);
        for (const step of ops) {
          const count = wasm.slots.length;
          switch (step.kind) {
            case "allow": {
              const slot = wasm.slots[step.slot % count];
              const a = wasm.memory.core.allowAdaptive(slot, clock.t);
              const b = js.memory.core.allowAdaptive(slot, clock.t);
              const c = fast.memory.decide(slot) ? 1 : 0;
              expect(b).toBe(a);
              expect(c).toBe(a);
              break;
            }
            case "settle": {
              const slot = wasm.slots[step.slot % count];
              const outcome = step.failure ? 1 : 0;
              wasm.memory.core.recordAdaptive(slot, wasm.memory.generation(slot), outcome, clock.t);
              js.memory.core.recordAdaptive(slot, js.memory.generation(slot), outcome, clock.t);
              fast.memory.settle(slot, fast.memory.generation(slot), outcome);
              break;
            }
            case "advance":
              clock.t += step.ms;
              break;
            case "create":
              for (const box of [wasm, js, fast]) box.slots.push(box.memory.allocate(box.policies[step.policy]));
              expect(js.slots.at(-1)).toBe(wasm.slots.at(-1));
              break;
            case "reset":
              for (const box of [wasm, js, fast]) box.memory.reset(box.slots[step.slot % count]);
              break;
            case "sweep": {
              const a = wasm.memory.countDropping();
              expect(js.memory.countDropping()).toBe(a);
              expect(fast.memory.countDropping()).toBe(a);
              break;
            }
            case "probe": {
              const slot = wasm.slots[step.slot % count];
              const a = wasm.memory.core.dropProbability(slot, clock.t);
              expect(js.memory.core.dropProbability(slot, clock.t)).toBe(a);
              expect(fast.memory.core.dropProbability(slot, clock.t)).toBe(a);
              break;
            }
          }
          expect(firstDifference(js.memory, wasm.memory)).toBe(-1);
        }
        // Fold the fast path's pending successes (the probe folds and rolls, identically on all three).
        for (const box of [wasm, js, fast]) for (const slot of box.slots) box.memory.core.dropProbability(slot, clock.t);
        expect(firstDifference(fast.memory, wasm.memory)).toBe(-1);
        expect(firstDifference(js.memory, wasm.memory)).toBe(-1);
      }),
      { numRuns: 150 },
    );
  });
});
