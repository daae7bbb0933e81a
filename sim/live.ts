// npm run demo -- --live: the simulation's scenarios in real time (or `speed` times faster), on
// breakerbox/dashboard. One box per scenario, one breaker per policy (the key is the policy's
// name), each in front of its own copy of the scenario's backend; the virtual clock follows the
// wall clock, so a newcomer watches breakers open, shed and recover in the browser. The scenarios
// start again when they end.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dashboard } from "../src/adapters/dashboard.js";
import { BreakerBox } from "../src/index.js";
import { POLICIES, SCENARIOS } from "./scenarios.js";
import { Backend, random, type Scenario } from "./simulator.js";

const STEP_MS = 50;

/** One policy's gateway in one scenario, stepped through virtual time. */
class Lane {
  private arrival = 0;
  private readonly backend: Backend;
  private readonly pending: Array<{ at: number; token: number; ok: boolean; latency: number }> = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly box: BreakerBox,
    private readonly key: string,
    private readonly draw: () => number,
  ) {
    this.backend = new Backend(scenario, draw);
  }

  /**
   * Runs the lane up to `until` ms since the scenario's run began at `epoch` on the box's clock,
   * which is set as it goes.
   */
  step(until: number, clock: { t: number }, epoch: number): void {
    const breaker = this.box.get(this.key);
    const settle = (time: number) => {
      this.pending.sort((a, b) => a.at - b.at);
      while (this.pending.length > 0 && this.pending[0].at <= time) {
        const done = this.pending.shift()!;
        clock.t = epoch + done.at;
        if (done.ok) breaker.accept(done.token, done.latency);
        else breaker.reject(done.token, "503 Service Unavailable");
      }
    };
    const scenario = this.scenario;
    for (;;) {
      const rate = scenario.offered(this.arrival);
      const next = this.arrival + (rate > 0 ? -Math.log(1 - this.draw()) * (1000 / rate) : 1);
      if (next > until) break;
      this.arrival = next;
      settle(next);
      clock.t = epoch + next;
      const token = breaker.tryAcquire();
      if (token === 0) continue;
      const { ok, latency } = this.backend.call(next);
      this.pending.push({ at: next + latency, token, ok, latency });
    }
    settle(until);
    clock.t = epoch + until;
  }
}

/** Starts the live demo on 127.0.0.1:`port` (0: any free one); its URL and a way to stop it. */
export async function startLive(options: {
  port: number;
  speed: number;
  seed: number;
  engine: "wasm" | "js";
}): Promise<{ url: string; close(): Promise<void> }> {
  const { speed, seed, engine } = options;
  const clocks = SCENARIOS.map(() => ({ t: 0 }));
  const epochs = SCENARIOS.map(() => 0);
  const boxes = SCENARIOS.map((_, s) => {
    const clock = clocks[s];
    return new BreakerBox({ engine, seed, now: () => clock.t });
  });
  const policies = POLICIES.filter((p) => p.options !== null);
  /** A fresh run of scenario `s`: new lanes, the breakers reset. */
  const lanesOf = (s: number, run: number) =>
    policies.map((policy, p) => {
      boxes[s].get(policy.name, policy.options as never).reset();
      return new Lane(SCENARIOS[s], boxes[s], policy.name, random(seed + 1000 * run + 100 * s + p));
    });
  const lanes = SCENARIOS.map((_, s) => lanesOf(s, 0));
  const runs = SCENARIOS.map(() => 0);
  const board = dashboard(
    Object.fromEntries(SCENARIOS.map((scenario, s) => [scenario.name, boxes[s]])),
    { title: "breakerbox demo, live", intervalMs: 500, authorize: () => true },
  );
  let virtual = 0;
  const timer = setInterval(() => {
    virtual += STEP_MS * speed;
    SCENARIOS.forEach((scenario, s) => {
      if (virtual - epochs[s] >= scenario.durationMs) {
        // The run is over: the scenario starts again, on the same (monotonic) clock.
        epochs[s] += scenario.durationMs;
        lanes[s] = lanesOf(s, ++runs[s]);
      }
      for (const lane of lanes[s]) lane.step(virtual - epochs[s], clocks[s], epochs[s]);
    });
  }, STEP_MS);
  const server: Server = createServer((req, res) => {
    if (req.url === "/" || req.url === "") {
      res.writeHead(302, { location: "/breakers" }).end();
      return;
    }
    board.node(req, res);
  });
  await new Promise<void>((resolve) => server.listen(options.port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/breakers`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        board.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
