// breakerbox/prometheus: the box's breakers as prom-client gauges, computed at scrape time from one
// sweep of the core. Nothing runs on the hot path. prom-client is an optional peer dependency.

import { register as defaultRegistry, Gauge, type Registry } from "prom-client";
import type { BreakerBox } from "../facade/box.js";
import { STATES, scrapeCache } from "./metrics.js";

export interface PrometheusOptions {
  /** Where to register the gauges. Default: prom-client's global registry. */
  registry?: Registry;
  /** Prefix of every metric name. Default 'breakerbox_'. */
  prefix?: string;
}

/**
 * Registers gauges labelled by breaker key: `requests`, `successes`, `failures`, `drops`,
 * `slow_calls` (the window of an adaptive breaker, the counts since the last state change of a
 * three-state one), `drop_ratio`, and `state` (1 for the breaker's current state, by the `state`
 * label). They are gauges, not counters: lifetime totals would cost work on every call. Label
 * cardinality is the number of breakers in the box. Returns a function that unregisters them.
 */
export function registerBreakerBox(box: BreakerBox, options: PrometheusOptions = {}): () => void {
  const registry = options.registry ?? defaultRegistry;
  const prefix = options.prefix ?? "breakerbox_";
  if (typeof prefix !== "string" || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new RangeError(
      `prefix must be a valid Prometheus metric name prefix, got ${JSON.stringify(prefix)}`,
    );
  }
  const stats = scrapeCache(box);
  const gauges: Gauge[] = [];
  const gauge = (
    name: string,
    help: string,
    value: (s: ReturnType<typeof stats>[number]) => number,
  ) => {
    gauges.push(
      new Gauge({
        name: prefix + name,
        help,
        labelNames: ["key"],
        registers: [registry],
        collect() {
          this.reset();
          for (const s of stats()) this.set({ key: s.key }, value(s));
        },
      }),
    );
  };
  gauge(
    "requests",
    "Calls in the breaker's window (adaptive) or since its last state change (three-state).",
    (s) => s.requests,
  );
  gauge(
    "successes",
    "Successful calls in the window / since the last state change.",
    (s) => s.successes,
  );
  gauge("failures", "Failed calls in the window / since the last state change.", (s) => s.failures);
  gauge("drops", "Calls the adaptive breaker dropped in its window.", (s) => s.drops);
  gauge(
    "slow_calls",
    "Slow calls since the three-state breaker's last state change.",
    (s) => s.slowCalls,
  );
  gauge(
    "drop_ratio",
    "Probability that the next call is rejected (three-state: 1 while rejecting).",
    (s) => s.dropRatio,
  );
  gauges.push(
    new Gauge({
      name: `${prefix}state`,
      help: "1 for the breaker's current state.",
      labelNames: ["key", "state"],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of stats())
          for (const state of STATES) this.set({ key: s.key, state }, s.state === state ? 1 : 0);
      },
    }),
  );
  return () => {
    for (const g of gauges) registry.removeSingleMetric((g as unknown as { name: string }).name);
  };
}
