// The cluster scenario of the simulation: a gateway of N instances in front of one backend, each
// instance a box of its own (the real library, on the virtual clock), alone or joined. Joined,
// the instances follow breakerbox/redis's protocol in virtual time, with a store in memory in
// place of Redis: every `syncMs` each instance sends the successes and failures it counted since
// its last sync and merges what the others counted (`breaker.merge`), publishes the time an
// opened breaker stays open and adopts the others' (`breaker.trip`), and asks for the probe lease
// before it goes half-open: only the holder probes. (The real protocol, against a real
// redis-server, is measured by `npm run bench:cluster`; this draws it over a whole outage.)

import { BreakerBox, type BreakerOptions } from "../src/index.js";
import { Backend, emptyBins, type RunResult, random, type Scenario } from "./simulator.js";

/** The in-memory stand-in for Redis: counts per instance, the open time, the probe lease. */
interface Store {
  counts: Array<{ successes: number; failures: number }>;
  openUntil: number;
  lease: { holder: number; until: number };
}

/**
 * Runs `scenario` through `instances` gateway instances sharing the offered load, each with a box
 * under `options`, joined or alone; counts per bin summed over the instances.
 */
export function simulateCluster(
  scenario: Scenario,
  options: BreakerOptions,
  instances: number,
  joined: boolean,
  seed: number,
  syncMs = 100,
  binMs = 250,
): RunResult {
  const draw = random(seed);
  let now = 0;
  const boxes = Array.from({ length: instances }, (_, i) => {
    const box = new BreakerBox({ ...options, seed: seed + i, now: () => now } as BreakerOptions);
    box.countTotals();
    return box;
  });
  const breakers = boxes.map((box) => box.get("upstream"));
  const store: Store = {
    counts: boxes.map(() => ({ successes: 0, failures: 0 })),
    openUntil: 0,
    lease: { holder: -1, until: 0 },
  };
  const sent = boxes.map(() => ({ successes: 0, failures: 0 }));
  const merged = boxes.map(() => boxes.map(() => ({ successes: 0, failures: 0 })));
  const bins = emptyBins(scenario, binMs);
  const pending: Array<{ at: number; who: number; token: number; ok: boolean }> = [];
  const backend = new Backend(scenario, draw);
  let nextSync = syncMs;
  let arrival = 0;

  const sync = (i: number) => {
    const breaker = breakers[i];
    const totals = breaker.stats().totals!;
    store.counts[i].successes += totals.successes - sent[i].successes;
    store.counts[i].failures += totals.failures - sent[i].failures;
    sent[i] = { successes: totals.successes, failures: totals.failures };
    let successes = 0;
    let failures = 0;
    store.counts.forEach((c, j) => {
      if (j === i) return;
      successes += c.successes - merged[i][j].successes;
      failures += c.failures - merged[i][j].failures;
      merged[i][j] = { ...c };
    });
    if (successes + failures > 0) breaker.merge(successes, failures);
    const state = breaker.state;
    const left = state === "open" ? (breaker.retryAfterMs ?? 0) : 0;
    if (left > 0 && now + left > store.openUntil) store.openUntil = now + left; // publish
    if (store.openUntil > now && state !== "half-open") breaker.trip(store.openUntil - now);
    if (breaker.state === "open" && (breaker.retryAfterMs ?? 0) <= 2 * syncMs) {
      const lease = store.lease;
      if (lease.until <= now || lease.holder === i) store.lease = { holder: i, until: now + 5000 };
      else breaker.trip(2 * syncMs); // another instance probes
    }
    if (state === "closed" && store.lease.holder === i) store.lease = { holder: -1, until: 0 };
  };

  const settle = (time: number) => {
    pending.sort((a, b) => a.at - b.at);
    while (pending.length > 0 && pending[0].at <= time) {
      const done = pending.shift()!;
      now = done.at;
      const bin = bins[Math.min(bins.length - 1, Math.floor(now / binMs))];
      if (done.ok) {
        bin.successes++;
        breakers[done.who].accept(done.token);
      } else {
        bin.failures++;
        breakers[done.who].reject(done.token, "503 Service Unavailable");
      }
    }
  };

  while (arrival < scenario.durationMs) {
    const rate = scenario.offered(arrival);
    arrival += rate > 0 ? -Math.log(1 - draw()) * (1000 / rate) : 1;
    if (arrival >= scenario.durationMs) break;
    settle(arrival);
    while (joined && nextSync <= arrival) {
      now = nextSync;
      for (let i = 0; i < instances; i++) sync(i);
      nextSync += syncMs;
    }
    now = arrival;
    const who = Math.floor(draw() * instances);
    const bin = bins[Math.floor(now / binMs)];
    bin.offered++;
    const token = breakers[who].tryAcquire();
    if (token === 0) {
      bin.dropped++;
      continue;
    }
    bin.passed++;
    const { ok, latency } = backend.call(now);
    pending.push({ at: now + latency, who, token, ok });
  }
  settle(Number.POSITIVE_INFINITY);
  const name = `${instances} instances, ${joined ? `joined (syncMs ${syncMs})` : "alone"}`;
  return { scenario: scenario.name, policy: name, binMs, bins };
}
