// The overload simulation: deterministic, faithful to its scenarios, and what the demo claims.
import { describe, expect, it } from "vitest";
import { simulateCluster } from "../sim/cluster.js";
import { startLive } from "../sim/live.js";
import { POLICIES, SCENARIOS } from "../sim/scenarios.js";
import { simulate, summarize } from "../sim/simulator.js";
import { chart } from "../sim/svg.js";

const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;
const policy = (name: string) => POLICIES.find((p) => p.name === name)!;
const total = (bins: { passed: number }[]) => bins.reduce((n, b) => n + b.passed, 0);

describe("simulator", () => {
  it("is deterministic by seed, and the seed matters", () => {
    const a = simulate(scenario("flapping"), policy("adaptive, go-zero"), 11);
    const b = simulate(scenario("flapping"), policy("adaptive, go-zero"), 11);
    const c = simulate(scenario("flapping"), policy("adaptive, go-zero"), 12);
    expect(b).toEqual(a);
    expect(c.bins).not.toEqual(a.bins);
  });

  it("gives the same run on both engines", () => {
    const wasm = simulate(
      scenario("hard-outage"),
      policy("adaptive, fast recovery"),
      3,
      250,
      "wasm",
    );
    const js = simulate(scenario("hard-outage"), policy("adaptive, fast recovery"), 3, 250, "js");
    expect(js.bins).toEqual(wasm.bins);
  });

  it("without a breaker, the backend receives all the offered load, in an outage too", () => {
    const run = simulate(scenario("hard-outage"), policy("no breaker"), 5);
    expect(total(run.bins)).toBe(run.bins.reduce((n, b) => n + b.offered, 0));
    expect(run.bins.every((b) => b.dropped === 0)).toBe(true);
    const summary = summarize(scenario("hard-outage"), run);
    expect(summary.backendDuringFault).toBeGreaterThan(180);
    expect(summary.goodputDuringFault).toBeLessThan(1);
  });

  it("offers the scenario's load: 200 req/s, Poisson", () => {
    const run = simulate(scenario("brownout"), policy("no breaker"), 9);
    const offered = run.bins.reduce((n, b) => n + b.offered, 0) / 80;
    expect(offered).toBeGreaterThan(190);
    expect(offered).toBeLessThan(210);
  });

  it("fast recovery meets the targets that go-zero misses", () => {
    const outage = scenario("hard-outage");
    const fast = summarize(outage, simulate(outage, policy("adaptive, fast recovery"), 7));
    const goZero = summarize(outage, simulate(outage, policy("adaptive, go-zero"), 7));
    expect(fast.recoveryMs).toBeLessThanOrEqual(3000);
    expect(fast.backendDuringFault).toBeLessThanOrEqual(2);
    expect(goZero.recoveryMs).toBeGreaterThan(3000);
    const overload = scenario("overload");
    const loaded = summarize(overload, simulate(overload, policy("adaptive, fast recovery"), 7));
    expect(loaded.backendDuringFault).toBeLessThanOrEqual(1.6 * overload.capacity);
    expect(loaded.goodputDuringFault).toBeGreaterThanOrEqual(0.95 * overload.capacity);
    const brownout = scenario("brownout");
    const run = simulate(brownout, policy("adaptive, fast recovery"), 7);
    const fault = run.bins.slice(40, 280);
    expect(
      fault.reduce((n, b) => n + b.dropped, 0) / fault.reduce((n, b) => n + b.offered, 0),
    ).toBeLessThanOrEqual(0.01);
  });

  it("a cluster of 10 instances: joined, the outage costs fewer calls and one probe per open period", () => {
    const options = { trip: { consecutiveFailures: 20 }, openMs: 5000 } as const;
    const outage = scenario("hard-outage");
    const alone = simulateCluster(outage, options, 10, false, 7);
    const joined = simulateCluster(outage, options, 10, true, 7);
    expect(simulateCluster(outage, options, 10, true, 7)).toEqual(joined); // replays exactly
    const inFault = (run: typeof alone) => total(run.bins.slice(22_000 / 250, 80_000 / 250));
    const firstSecond = (run: typeof alone) => total(run.bins.slice(80, 84));
    expect(firstSecond(joined)).toBeLessThan(firstSecond(alone) / 3);
    // 58 s of outage, open 5 s: alone, each of the 10 instances probes every period; joined, one.
    expect(inFault(alone)).toBeGreaterThanOrEqual(100);
    expect(inFault(joined)).toBeLessThanOrEqual(14);
    expect(summarize(outage, joined).recoveryMs).toBeLessThan(5000);
  });

  it("draws a chart that is well-formed SVG with a panel per policy", () => {
    const s = scenario("slow-backend");
    const svg = chart(
      s,
      POLICIES.map((p) => simulate(s, p, 1)),
    );
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    for (const p of POLICIES) expect(svg).toContain(`>${p.name}</text>`);
    expect(svg).not.toMatch(/NaN|undefined/);
  });
});

describe("the live demo (npm run demo -- --live)", () => {
  it("serves the scenarios on the dashboard as they run: the hard outage opens its breakers", async () => {
    const live = await startLive({ port: 0, speed: 50, seed: 7, engine: "wasm" });
    try {
      // What a page connecting now is sent first; asked again until the outage has begun (at
      // speed 50, 20 s of the scenario take 0.4 s, longer on a busy machine).
      const hello = async () => {
        const response = await fetch(live.url.replace("/breakers", "/breakers/events"));
        const reader = response.body!.getReader();
        let text = "";
        while (!text.includes("\n\n"))
          text += new TextDecoder().decode((await reader.read()).value);
        await reader.cancel();
        return JSON.parse(text.slice(text.indexOf("data: ") + 6, text.indexOf("\n\n")));
      };
      const open = (m: { rows: unknown[][] }) =>
        m.rows.some((row) => row[0] === "hard-outage" && row[2] === "open");
      let first = await hello();
      for (let i = 0; i < 40 && !open(first); i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        first = await hello();
      }
      expect(first.boxes).toEqual(SCENARIOS.map((s) => s.name));
      const outage = first.rows.filter((row: unknown[]) => row[0] === "hard-outage");
      expect(outage.map((row: unknown[]) => row[1]).sort()).toEqual(
        POLICIES.filter((p) => p.options !== null)
          .map((p) => p.name)
          .sort(),
      );
      expect(outage.some((row: unknown[]) => row[2] === "open")).toBe(true);
      expect((await fetch(live.url)).headers.get("content-security-policy")).toContain("'self'");
    } finally {
      await live.close();
    }
  });
});
