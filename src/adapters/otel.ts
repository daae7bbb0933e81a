// breakerbox/otel: the box's breakers as OpenTelemetry observable gauges, observed in one batch
// callback from one sweep of the core per collection. @opentelemetry/api is an optional peer dependency.

import type { Attributes, Meter } from "@opentelemetry/api";
import type { BreakerBox } from "../facade/box.js";
import { STATES } from "./metrics.js";

export interface OtelOptions {
  /** Prefix of every instrument name. Default 'breakerbox.'. */
  prefix?: string;
  /** The box's `breaker.box` attribute, to tell several boxes on one meter apart. Default 'default'. */
  name?: string;
}

/**
 * Creates, on `meter`, with `breaker.box` and `breaker.key` attributes:
 * - observable gauges of the window: requests, successes, failures, drops, slow_calls,
 *   drop_ratio, and state (1 for the current state, by a `breaker.state` attribute);
 * - observable counters of the lifetime totals (`box.countTotals()`, called here): `calls` by
 *   `breaker.outcome` (`success`, `failure`, `excluded`), `rejections`, `timeouts`.
 * One sweep per collection feeds them all. Several boxes may share a meter, each with its own
 * `name`. Returns a function that stops observing.
 */
export function observeBreakerBox(
  box: BreakerBox,
  meter: Meter,
  options: OtelOptions = {},
): () => void {
  const prefix = options.prefix ?? "breakerbox.";
  const name = options.name ?? "default";
  if (typeof name !== "string" || name === "")
    throw new TypeError(`name must be a non-empty string, got ${JSON.stringify(name)}`);
  box.countTotals();
  const g = (name: string, description: string, unit = "{call}") =>
    meter.createObservableGauge(prefix + name, { description, unit });
  const requests = g(
    "requests",
    "Calls in the breaker's window (adaptive) or since its last state change (three-state).",
  );
  const successes = g("successes", "Successful calls in the window / since the last state change.");
  const failures = g("failures", "Failed calls in the window / since the last state change.");
  const drops = g("drops", "Calls the adaptive breaker dropped in its window.");
  const slow = g("slow_calls", "Slow calls since the three-state breaker's last state change.");
  const ratio = g(
    "drop_ratio",
    "Probability that the next call is rejected (three-state: 1 while rejecting).",
    "1",
  );
  const state = g("state", "1 for the breaker's current state.", "1");
  const c = (counter: string, description: string) =>
    meter.createObservableCounter(prefix + counter, { description, unit: "{call}" });
  const calls = c("calls", "Calls settled since the box began counting, by outcome.");
  const rejections = c("rejections", "Calls the breaker refused since the box began counting.");
  const timeouts = c(
    "timeouts",
    "Calls that ran out of their timeoutMs since the box began counting.",
  );
  const instruments = [
    requests,
    successes,
    failures,
    drops,
    slow,
    ratio,
    state,
    calls,
    rejections,
    timeouts,
  ];
  const callback = (result: {
    observe(instrument: unknown, value: number, attributes?: Attributes): void;
  }) => {
    box.forEachStats((key, s) => {
      const attributes = { "breaker.box": name, "breaker.key": key };
      result.observe(requests, s.requests, attributes);
      result.observe(successes, s.successes, attributes);
      result.observe(failures, s.failures, attributes);
      result.observe(drops, s.drops, attributes);
      result.observe(slow, s.slowCalls, attributes);
      result.observe(ratio, s.dropRatio, attributes);
      for (const one of STATES)
        result.observe(state, s.state === one ? 1 : 0, { ...attributes, "breaker.state": one });
      const totals = s.totals;
      if (totals === undefined) return;
      result.observe(calls, totals.successes, { ...attributes, "breaker.outcome": "success" });
      result.observe(calls, totals.failures, { ...attributes, "breaker.outcome": "failure" });
      result.observe(calls, totals.exclusions, { ...attributes, "breaker.outcome": "excluded" });
      result.observe(rejections, totals.rejections, attributes);
      result.observe(timeouts, totals.timeouts, attributes);
    });
  };
  meter.addBatchObservableCallback(callback, instruments);
  return () => meter.removeBatchObservableCallback(callback, instruments);
}
