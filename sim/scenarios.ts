// The named scenarios and the policies compared in each. Rates in requests per second, times in ms.

import type { PolicyUnderTest, Scenario } from "./simulator.js";

const healthy = { failure: 0, slowdown: 1 };
const down = { failure: 1, slowdown: 1 };
const during = (from: number, to: number) => (t: number) => t >= from && t < to;

export const SCENARIOS: Scenario[] = [
  {
    name: "hard-outage",
    title: "Hard outage",
    description:
      "200 req/s; the backend fails every call from 20 s to 80 s, then is healthy again.",
    durationMs: 120_000,
    offered: () => 200,
    capacity: 400,
    latencyMs: 20,
    condition: (t) => (during(20_000, 80_000)(t) ? down : healthy),
    faults: [[20_000, 80_000]],
  },
  {
    name: "overload",
    title: "Overload",
    description:
      "Capacity 200 req/s; 150 req/s offered, then 600 req/s (3×) from 20 s to 80 s; over capacity the backend fails fast.",
    durationMs: 110_000,
    offered: (t) => (during(20_000, 80_000)(t) ? 600 : 150),
    capacity: 200,
    latencyMs: 20,
    condition: () => healthy,
    faults: [[20_000, 80_000]],
  },
  {
    name: "brownout",
    title: "Brownout",
    description:
      "200 req/s; 10 % of calls fail at random from 10 s to 70 s. A breaker must not amplify a small fault.",
    durationMs: 80_000,
    offered: () => 200,
    capacity: 400,
    latencyMs: 20,
    condition: (t) => (during(10_000, 70_000)(t) ? { failure: 0.1, slowdown: 1 } : healthy),
    faults: [[10_000, 70_000]],
  },
  {
    name: "flapping",
    title: "Flapping",
    description: "200 req/s; from 20 s to 80 s the backend is down 5 s, up 5 s, over and over.",
    durationMs: 110_000,
    offered: () => 200,
    capacity: 400,
    latencyMs: 20,
    condition: (t) =>
      during(20_000, 80_000)(t) && Math.floor((t - 20_000) / 5000) % 2 === 0 ? down : healthy,
    faults: Array.from(
      { length: 6 },
      (_, i) => [20_000 + i * 10_000, 25_000 + i * 10_000] as [number, number],
    ),
  },
  {
    name: "slow-backend",
    title: "Slow backend",
    description: "200 req/s; latency rises 10× (20 → 200 ms) from 20 s to 60 s, with no errors.",
    durationMs: 90_000,
    offered: () => 200,
    capacity: 400,
    latencyMs: 20,
    condition: (t) => (during(20_000, 60_000)(t) ? { failure: 0, slowdown: 10 } : healthy),
    faults: [[20_000, 60_000]],
  },
];

export const POLICIES: PolicyUnderTest[] = [
  { name: "no breaker", options: null },
  { name: "adaptive, go-zero", options: { recovery: "go-zero" } },
  { name: "adaptive, fast recovery", options: { recovery: "fast" } },
  { name: "three-state, gobreaker defaults", options: { policy: "three-state" } },
  {
    name: "three-state, slow calls",
    options: {
      trip: { slowCallRatio: 0.5, slowCallMs: 100, minRequests: 20 },
      openMs: 5000,
      halfOpenMaxCalls: 5,
    },
  },
];
