// breakerbox/prometheus: the box's breakers as prom-client metrics, computed at scrape time from one
// sweep of the core per box. Nothing runs on the hot path but the lifetime totals' one increment.
// prom-client is an optional peer dependency.
//
// Several boxes share one registry: the metrics are registered once per registry and prefix, and
// every registered box is a value of the `box` label.

import { Counter, register as defaultRegistry, Gauge, type Registry } from "prom-client";
import type { BreakerBox, KeyedStats } from "../facade/box.js";
import type { BreakerTotals } from "../facade/totals.js";
import { STATES, scrapeCache } from "./metrics.js";

export interface PrometheusOptions {
  /** Where to register the metrics. Default: prom-client's global registry. */
  registry?: Registry;
  /** Prefix of every metric name. Default 'breakerbox_'. */
  prefix?: string;
  /** The box's `box` label, unique in the registry and prefix. Default 'default'. */
  name?: string;
}

/** The metrics of one registry and prefix, and the boxes they read. */
interface Exported {
  boxes: Map<string, () => KeyedStats[]>;
  metrics: Array<Gauge | Counter>;
}

const exported = new WeakMap<Registry, Map<string, Exported>>();

/**
 * Registers, labelled by `box` and breaker `key`:
 * - gauges of the window: `requests`, `successes`, `failures`, `drops`, `slow_calls` (the window of
 *   an adaptive breaker, the counts since the last state change of a three-state one),
 *   `drop_ratio`, and `state` (1 for the breaker's current state, by the `state` label);
 * - counters of the lifetime totals (`box.countTotals()`, called here): `calls_total` by
 *   `outcome` (`success`, `failure`, `excluded`), `rejections_total`, `timeouts_total`.
 * Label cardinality is the number of breakers. Returns a function that unregisters the box (and
 * the metrics with the last box).
 */
export function registerBreakerBox(box: BreakerBox, options: PrometheusOptions = {}): () => void {
  const registry = options.registry ?? defaultRegistry;
  const prefix = options.prefix ?? "breakerbox_";
  if (typeof prefix !== "string" || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new RangeError(
      `prefix must be a valid Prometheus metric name prefix, got ${JSON.stringify(prefix)}`,
    );
  }
  const name = options.name ?? "default";
  if (typeof name !== "string" || name === "")
    throw new TypeError(`name must be a non-empty string, got ${JSON.stringify(name)}`);
  let byPrefix = exported.get(registry);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    exported.set(registry, byPrefix);
  }
  let entry = byPrefix.get(prefix);
  if (entry?.boxes.has(name)) {
    throw new Error(
      `a box named ${JSON.stringify(name)} is already registered with prefix ${JSON.stringify(prefix)} in this registry: give each box its own name`,
    );
  }
  if (entry === undefined) {
    entry = { boxes: new Map(), metrics: [] };
    entry.metrics = makeMetrics(registry, prefix, entry.boxes);
    byPrefix.set(prefix, entry);
  }
  box.countTotals();
  entry.boxes.set(name, scrapeCache(box));
  const { boxes, metrics } = entry;
  const registries = byPrefix;
  let registered = true;
  return () => {
    if (!registered) return;
    registered = false;
    boxes.delete(name);
    if (boxes.size > 0) return;
    for (const metric of metrics)
      registry.removeSingleMetric((metric as unknown as { name: string }).name);
    registries.delete(prefix);
  };
}

function makeMetrics(
  registry: Registry,
  prefix: string,
  boxes: Map<string, () => KeyedStats[]>,
): Array<Gauge | Counter> {
  const metrics: Array<Gauge | Counter> = [];
  const each = (visit: (box: string, s: KeyedStats) => void) => {
    for (const [box, stats] of boxes) for (const s of stats()) visit(box, s);
  };
  const gauge = (name: string, help: string, value: (s: KeyedStats) => number) => {
    metrics.push(
      new Gauge({
        name: prefix + name,
        help,
        labelNames: ["box", "key"],
        registers: [registry],
        collect() {
          this.reset();
          each((box, s) => this.set({ box, key: s.key }, value(s)));
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
  metrics.push(
    new Gauge({
      name: `${prefix}state`,
      help: "1 for the breaker's current state.",
      labelNames: ["box", "key", "state"],
      registers: [registry],
      collect() {
        this.reset();
        each((box, s) => {
          for (const state of STATES)
            this.set({ box, key: s.key, state }, s.state === state ? 1 : 0);
        });
      },
    }),
  );
  /** A counter of the lifetime totals: a value per breaker, or a value per breaker and outcome. */
  const counter = (
    name: string,
    help: string,
    byOutcome: boolean,
    values: (t: BreakerTotals) => Array<[outcome: string, value: number]>,
  ) => {
    metrics.push(
      new Counter({
        name: prefix + name,
        help,
        labelNames: byOutcome ? ["box", "key", "outcome"] : ["box", "key"],
        registers: [registry],
        collect() {
          this.reset();
          each((box, s) => {
            if (s.totals === undefined) return;
            for (const [outcome, value] of values(s.totals))
              this.inc(byOutcome ? { box, key: s.key, outcome } : { box, key: s.key }, value);
          });
        },
      }),
    );
  };
  counter(
    "calls_total",
    "Calls settled since the box began counting, by outcome (timeouts are failures).",
    true,
    (t) => [
      ["success", t.successes],
      ["failure", t.failures],
      ["excluded", t.exclusions],
    ],
  );
  counter(
    "rejections_total",
    "Calls the breaker refused since the box began counting (open, shedding, forced open, isolated, probes full).",
    false,
    (t) => [["", t.rejections]],
  );
  counter(
    "timeouts_total",
    "Calls that ran out of their timeoutMs since the box began counting.",
    false,
    (t) => [["", t.timeouts]],
  );
  return metrics;
}
