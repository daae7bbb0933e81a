// A deterministic discrete-event simulation in virtual time: clients offering load → a gateway
// calling through a breakerbox breaker → a backend with a capacity, a latency model and failure
// episodes. No sleeping and no wall clock: the breaker gets the virtual clock, and every random
// choice comes from one seeded generator, so the same seed gives the same run.

import { Breaker, type BreakerOptions } from "../src/index.js";

/** A small, fast, seedable generator (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The backend at one moment: how it answers a call arriving then. */
export interface BackendCondition {
  /** Probability that a call fails (a fast error, as a refused connection or a 5xx). */
  failure: number;
  /** Multiplier of the normal latency. */
  slowdown: number;
}

export interface Scenario {
  name: string;
  title: string;
  description: string;
  /** Length of the run, ms. */
  durationMs: number;
  /** Requests per second offered at time t. */
  offered: (t: number) => number;
  /** Requests per second the backend can serve (a token bucket with 200 ms of burst); calls beyond it fail fast. */
  capacity: number;
  /** Normal latency of a served call, ms. */
  latencyMs: number;
  condition: (t: number) => BackendCondition;
  /** The fault periods [start, end) in ms, for the per-fault metrics. */
  faults: Array<[number, number]>;
}

/** One policy under test: breaker options, or none. */
export interface PolicyUnderTest {
  name: string;
  options: BreakerOptions | null;
}

/** Counts per time bin. */
export interface Bin {
  offered: number;
  passed: number;
  dropped: number;
  failures: number;
  successes: number;
  slow: number;
  dropRatio: number;
}

export interface RunResult {
  scenario: string;
  policy: string;
  binMs: number;
  bins: Bin[];
}

const FAILURE_LATENCY_MS = 5;

/** A run's bins of `binMs`, empty. */
export function emptyBins(scenario: Scenario, binMs: number): Bin[] {
  return Array.from({ length: Math.ceil(scenario.durationMs / binMs) }, () => ({
    offered: 0,
    passed: 0,
    dropped: 0,
    failures: 0,
    successes: 0,
    slow: 0,
    dropRatio: 0,
  }));
}

/**
 * The scenario's backend: a token bucket of `capacity` per second with 200 ms of burst (a call
 * beyond it fails fast), failures and slowdowns by the scenario's condition at the time, and a
 * latency jittered by ±50 %. Every simulation of a scenario (one gateway, a cluster, the live
 * demo) calls it, with its own generator.
 */
export class Backend {
  private tokens: number;
  private refilled = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly draw: () => number,
  ) {
    this.tokens = scenario.capacity * 0.2;
  }

  /** A call arriving at `now`: whether it succeeds, and how long it takes. */
  call(now: number): { ok: boolean; latency: number } {
    const scenario = this.scenario;
    const condition = scenario.condition(now);
    const jitter = 0.5 + this.draw();
    const burst = scenario.capacity * 0.2;
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilled) * scenario.capacity) / 1000);
    this.refilled = now;
    if (this.tokens < 1) return { ok: false, latency: FAILURE_LATENCY_MS }; // over capacity
    this.tokens--;
    if (this.draw() < condition.failure) return { ok: false, latency: FAILURE_LATENCY_MS };
    return { ok: true, latency: scenario.latencyMs * condition.slowdown * jitter };
  }
}

/** A binary min-heap of completion events, by time. */
class Completions {
  private times: number[] = [];
  private items: Array<{ token: number; ok: boolean; latency: number }> = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number {
    return this.times[0];
  }

  push(time: number, item: { token: number; ok: boolean; latency: number }): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= times[i]) break;
      [times[parent], times[i]] = [times[i], times[parent]];
      [items[parent], items[i]] = [items[i], items[parent]];
      i = parent;
    }
  }

  pop(): { token: number; ok: boolean; latency: number } {
    const times = this.times;
    const items = this.items;
    const top = items[0];
    const lastTime = times.pop()!;
    const lastItem = items.pop()!;
    if (times.length > 0) {
      times[0] = lastTime;
      items[0] = lastItem;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < times.length && times[left] < times[smallest]) smallest = left;
        if (right < times.length && times[right] < times[smallest]) smallest = right;
        if (smallest === i) break;
        [times[smallest], times[i]] = [times[i], times[smallest]];
        [items[smallest], items[i]] = [items[i], items[smallest]];
        i = smallest;
      }
    }
    return top;
  }
}

/**
 * Runs `scenario` with `policy` through the real library (`engine` chosen by the options) and
 * returns counts per `binMs` bin. Arrivals are a Poisson process at the offered rate.
 */
export function simulate(
  scenario: Scenario,
  policy: PolicyUnderTest,
  seed: number,
  binMs = 250,
  engine: "wasm" | "js" = "wasm",
): RunResult {
  const draw = random(seed);
  let now = 0;
  const breaker =
    policy.options === null
      ? null
      : new Breaker({ seed, engine, ...policy.options, now: () => now } as BreakerOptions);
  const bins = emptyBins(scenario, binMs);
  const completions = new Completions();
  const slowThreshold = scenario.latencyMs * 3;
  const backend = new Backend(scenario, draw);
  let nextBin = binMs;
  let arrival = 0;

  const settle = (time: number) => {
    while (completions.size > 0 && completions.peekTime() <= time) {
      now = completions.peekTime();
      const done = completions.pop();
      const bin = bins[Math.min(bins.length - 1, Math.floor(now / binMs))];
      if (done.ok) {
        bin.successes++;
        if (done.latency > slowThreshold) bin.slow++;
        if (breaker !== null) breaker.accept(done.token, done.latency);
      } else {
        bin.failures++;
        if (breaker !== null) breaker.reject(done.token, "503 Service Unavailable");
      }
    }
  };

  while (arrival < scenario.durationMs) {
    const rate = scenario.offered(arrival);
    arrival += rate > 0 ? -Math.log(1 - draw()) * (1000 / rate) : 1;
    if (arrival >= scenario.durationMs) break;
    settle(arrival);
    while (nextBin <= arrival) {
      // sample the drop ratio at each bin's end
      if (breaker !== null) bins[nextBin / binMs - 1].dropRatio = breaker.stats().dropRatio;
      nextBin += binMs;
    }
    now = arrival;
    const bin = bins[Math.floor(now / binMs)];
    bin.offered++;
    const token = breaker === null ? 1 : breaker.tryAcquire();
    if (token === 0) {
      bin.dropped++;
      continue;
    }
    bin.passed++;
    const { ok, latency } = backend.call(now);
    completions.push(now + latency, { token, ok, latency });
  }
  settle(Infinity);
  return { scenario: scenario.name, policy: policy.name, binMs, bins };
}

export interface Summary {
  /** Calls reaching the backend per second during the faults, after their first 2 s. */
  backendDuringFault: number;
  /** Successful responses per second during the faults. */
  goodputDuringFault: number;
  /** Share of offered calls dropped while the backend was healthy (outside the faults and 15 s after). */
  dropRateHealthy: number;
  /** From the end of the last fault until ≥ 95 % of offered calls pass again (ms); Infinity if never. */
  recoveryMs: number;
  /** Slow responses per second during the faults. */
  slowDuringFault: number;
}

/** The scenario's metrics from a run's bins. */
export function summarize(scenario: Scenario, run: RunResult): Summary {
  const { bins, binMs } = run;
  const inFault = (t: number) => scenario.faults.some(([a, b]) => t >= a && t < b);
  let faultBins = 0,
    faultGood = 0,
    faultSlow = 0,
    faultAfterWarmup = 0,
    faultCallsAfterWarmup = 0;
  let healthyOffered = 0,
    healthyDropped = 0;
  bins.forEach((bin, i) => {
    const t = i * binMs;
    if (inFault(t)) {
      faultBins++;
      faultGood += bin.successes;
      faultSlow += bin.slow;
      if (scenario.faults.some(([a, b]) => t >= a + 2000 && t < b)) {
        faultAfterWarmup++;
        faultCallsAfterWarmup += bin.passed;
      }
    } else if (!scenario.faults.some(([, b]) => t >= b && t < b + 15_000)) {
      healthyOffered += bin.offered;
      healthyDropped += bin.dropped;
    }
  });
  const seconds = (n: number) => (n * binMs) / 1000;
  const healed = Math.max(...scenario.faults.map(([, b]) => b));
  let recoveryMs = Infinity;
  if (Number.isFinite(healed) && healed < scenario.durationMs) {
    // The first bin after healing from which every bin until the end passes ≥ 95 % of its offer.
    const first = Math.floor(healed / binMs);
    let from = -1;
    for (let i = bins.length - 1; i >= first; i--) {
      const bin = bins[i];
      if (bin.offered > 0 && bin.passed / bin.offered < 0.95) break;
      from = i;
    }
    if (from >= 0) recoveryMs = Math.max(0, from * binMs - healed);
  }
  return {
    backendDuringFault:
      faultAfterWarmup > 0 ? faultCallsAfterWarmup / seconds(faultAfterWarmup) : 0,
    goodputDuringFault: faultBins > 0 ? faultGood / seconds(faultBins) : 0,
    dropRateHealthy: healthyOffered > 0 ? healthyDropped / healthyOffered : 0,
    recoveryMs,
    slowDuringFault: faultBins > 0 ? faultSlow / seconds(faultBins) : 0,
  };
}
