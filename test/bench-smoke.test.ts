// A smoke run of every benchmark workload, so the bench code cannot rot. No timing is asserted.
import { describe, expect, it } from "vitest";
import {
  breakerboxWorkloads,
  callsPerClockRead,
  creation,
  INCUMBENTS,
  incumbentWorkloads,
  sweepWorkloads,
  timeSweeps,
} from "../bench/workloads.js";

describe("bench workloads", () => {
  it.each(["wasm", "js"] as const)("every breakerbox workload runs on %s", async (engine) => {
    const workloads = breakerboxWorkloads(engine);
    expect(workloads.length).toBeGreaterThan(8);
    for (const workload of workloads) await workload.run();
    for (const workload of sweepWorkloads(engine, 1000)) await workload.run();
    expect(timeSweeps(engine, 500).stats).toBeGreaterThanOrEqual(0);
  });

  it.each(["floor", ...INCUMBENTS] as const)("every %s workload runs", async (kind) => {
    const { workloads, dispose } = incumbentWorkloads(kind);
    try {
      for (const workload of workloads) await workload.run();
    } finally {
      dispose();
    }
  });

  it("creation and clock figures come out as numbers", async () => {
    expect((await creation("wasm", 1000, () => {}, 0)).coreBytes).toBe(512);
    expect(
      (await creation("js", 1000, () => {}, 0, "three-state, consecutive failures")).coreBytes,
    ).toBe(64);
    expect(
      (await creation("wasm", 1000, () => {}, 0, "three-state, failure ratio, 10 buckets"))
        .coreBytes,
    ).toBeLessThanOrEqual(192);
    expect(callsPerClockRead(10_000)).toBeGreaterThan(1);
  });
});
