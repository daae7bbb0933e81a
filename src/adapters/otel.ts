// breakerbox/otel: the box's breakers as OpenTelemetry observable gauges, observed in one batch
// callback from one sweep of the core per collection. @opentelemetry/api is an optional peer dependency.

import type { Attributes, Meter } from "@opentelemetry/api";
import type { BreakerBox } from "../facade/box.js";
import { STATES } from "./metrics.js";

export interface OtelOptions {
  /** Prefix of every instrument name. Default 'breakerbox.'. */
  prefix?: string;
}

/**
 * Creates observable gauges on `meter` with a `breaker.key` attribute: requests, successes,
 * failures, drops, slow_calls, drop_ratio, and state (1 for the current state, by a
 * `breaker.state` attribute). One sweep per collection feeds them all. Returns a function that
 * stops observing.
 */
export function observeBreakerBox(
  box: BreakerBox,
  meter: Meter,
  options: OtelOptions = {},
): () => void {
  const prefix = options.prefix ?? "breakerbox.";
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
  const instruments = [requests, successes, failures, drops, slow, ratio, state];
  const callback = (result: {
    observe(instrument: unknown, value: number, attributes?: Attributes): void;
  }) => {
    box.forEachStats((key, s) => {
      const attributes = { "breaker.key": key };
      result.observe(requests, s.requests, attributes);
      result.observe(successes, s.successes, attributes);
      result.observe(failures, s.failures, attributes);
      result.observe(drops, s.drops, attributes);
      result.observe(slow, s.slowCalls, attributes);
      result.observe(ratio, s.dropRatio, attributes);
      for (const name of STATES)
        result.observe(state, s.state === name ? 1 : 0, { ...attributes, "breaker.state": name });
    });
  };
  meter.addBatchObservableCallback(callback, instruments);
  return () => meter.removeBatchObservableCallback(callback, instruments);
}
