// Checking options at the edge: every value a user passes is checked here, and a bad one throws
// a TypeError or RangeError that names the option, the range and the value received. The result
// is a checked policy (src/core/types.ts) for the policy table.

import {
  RECOVERY_FAST,
  RECOVERY_GO_ZERO,
  TRIP_CONSECUTIVE,
  TRIP_FAILURE_COUNT,
  TRIP_FAILURE_RATIO,
  TRIP_RATIOS,
  TRIP_SLOW_RATIO,
  WINDOW_COUNT,
  WINDOW_NONE,
  WINDOW_TIME,
} from "../core/layout.js";
import type { AdaptivePolicy, EngineChoice, Policy, ThreeStatePolicy } from "../core/types.js";
import {
  checkObject,
  describe,
  inRange,
  int,
  integer,
  MAX,
  NON_NEGATIVE,
  number,
  POSITIVE,
  real,
  required,
} from "./check.js";
import { CLASSIFY_KEYS, type Classify, checkClassify } from "./classify.js";
import { ADAPTIVE_DEFAULTS, type DropReport, THREE_STATE_DEFAULTS } from "./options.js";

const ADAPTIVE_KEYS = [
  "policy",
  "windowMs",
  "buckets",
  "k",
  "minK",
  "protection",
  "forcePassMs",
  "recovery",
  "outageBuckets",
];
const THREE_STATE_KEYS = [
  "policy",
  "trip",
  "windowMs",
  "buckets",
  "windowCalls",
  "openMs",
  "backoff",
  "maxOpenMs",
  "halfOpenMaxCalls",
  "halfOpenSuccesses",
  "probeTimeoutMs",
];
/** Every policy option's name, either policy's. */
export const POLICY_OPTION_KEYS: ReadonlySet<string> = new Set([
  ...ADAPTIVE_KEYS,
  ...THREE_STATE_KEYS,
]);
const BOX_KEYS = ["now", "seed", "engine", "onDrop", "dropReportMs", "timeoutMs", ...CLASSIFY_KEYS];

/** windowMs and buckets, checked together: buckets of at least 1 ms. */
function timeWindow(
  options: Record<string, unknown>,
  windowDefault: number,
  bucketsDefault: number,
): { buckets: number; bucketMs: number } {
  const windowMs = real(options, "windowMs", windowDefault, Number.MIN_VALUE, MAX, POSITIVE);
  const buckets = int(options, "buckets", bucketsDefault, 1, 255);
  const bucketMs = windowMs / buckets;
  if (bucketMs < 1)
    throw new RangeError(
      `windowMs / buckets must be ≥ 1 ms, got ${windowMs} / ${buckets} = ${bucketMs}`,
    );
  return { buckets, bucketMs };
}

function adaptivePolicy(options: Record<string, unknown>): AdaptivePolicy {
  const d = ADAPTIVE_DEFAULTS;
  const { buckets, bucketMs } = timeWindow(options, d.windowMs, d.buckets);
  const k = real(options, "k", d.k, 1, MAX, "a finite number ≥ 1");
  const minK = real(options, "minK", Math.min(d.minK, k), 1, k, `in [1, k = ${k}]`);
  const protection = real(options, "protection", d.protection, 0, MAX, NON_NEGATIVE);
  const forcePassMs = real(
    options,
    "forcePassMs",
    d.forcePassMs,
    0,
    Infinity,
    "a number ≥ 0 (Infinity turns it off)",
  );
  const recoveryName = options.recovery ?? d.recovery;
  if (recoveryName !== "go-zero" && recoveryName !== "fast") {
    throw new RangeError(`recovery must be 'go-zero' or 'fast', got ${describe(recoveryName)}`);
  }
  if (recoveryName === "go-zero" && options.outageBuckets !== undefined) {
    throw new TypeError("outageBuckets applies to recovery: 'fast' only");
  }
  const outageBuckets = int(
    options,
    "outageBuckets",
    Math.min(d.outageBuckets, buckets),
    1,
    buckets,
  );
  const recovery = recoveryName === "fast" ? RECOVERY_FAST : RECOVERY_GO_ZERO;
  return {
    kind: "adaptive",
    buckets,
    bucketMs,
    k,
    minK,
    protection,
    forcePassMs,
    recovery,
    outageBuckets,
  };
}

const TRIP_KEYS: Record<string, readonly string[]> = {
  consecutiveFailures: ["consecutiveFailures"],
  failureRatio: ["failureRatio", "minRequests"],
  failureCount: ["failureCount", "minRequests"],
  slowCallRatio: ["slowCallRatio", "slowCallMs", "minRequests"],
};

function threeStatePolicy(options: Record<string, unknown>): ThreeStatePolicy {
  const d = THREE_STATE_DEFAULTS;
  const tripValue = options.trip ?? { consecutiveFailures: d.consecutiveFailures };
  if (typeof tripValue !== "object" || tripValue === null || Array.isArray(tripValue)) {
    throw new TypeError(`trip must be an object, got ${describe(tripValue)}`);
  }
  const strategies = Object.keys(TRIP_KEYS).filter((key) => key in tripValue);
  const both =
    strategies.length === 2 && "failureRatio" in tripValue && "slowCallRatio" in tripValue;
  if (strategies.length !== 1 && !both) {
    throw new TypeError(
      `trip must name exactly one of ${Object.keys(TRIP_KEYS).join(", ")} (or both failureRatio and slowCallRatio), got ${JSON.stringify(Object.keys(tripValue))}`,
    );
  }
  const strategy = both ? "ratios" : strategies[0];
  const keys = both
    ? ["failureRatio", "slowCallRatio", "slowCallMs", "minRequests"]
    : TRIP_KEYS[strategy];
  const trip = checkObject("trip", tripValue, new Set(keys));
  let code: number;
  let threshold: number;
  let slowThreshold = 0;
  let minRequests = 0;
  let slowCallMs = Infinity;
  const ratio = (name: string) =>
    inRange(`trip.${name}`, required(`trip.${name}`, trip[name]), Number.MIN_VALUE, 1, "in (0, 1]");
  const minimum = (fallback: number) => int(trip, "minRequests", fallback, 1, 4294967295, "trip.");
  if (strategy === "consecutiveFailures") {
    code = TRIP_CONSECUTIVE;
    threshold = integer(
      "trip.consecutiveFailures",
      required("trip.consecutiveFailures", trip.consecutiveFailures),
      1,
      4294967295,
    );
  } else if (strategy === "failureRatio") {
    code = TRIP_FAILURE_RATIO;
    threshold = ratio("failureRatio");
    minRequests = minimum(d.ratioMinRequests);
  } else if (strategy === "failureCount") {
    code = TRIP_FAILURE_COUNT;
    threshold = integer(
      "trip.failureCount",
      required("trip.failureCount", trip.failureCount),
      1,
      4294967295,
    );
    minRequests = minimum(d.countMinRequests);
  } else {
    code = both ? TRIP_RATIOS : TRIP_SLOW_RATIO;
    threshold = ratio("slowCallRatio");
    if (both) {
      slowThreshold = threshold;
      threshold = ratio("failureRatio");
    }
    slowCallMs = inRange(
      "trip.slowCallMs",
      required("trip.slowCallMs", trip.slowCallMs),
      0,
      MAX,
      NON_NEGATIVE,
    );
    minRequests = minimum(d.ratioMinRequests);
  }

  let window = WINDOW_NONE;
  let buckets = 0;
  let bucketMs = 1000; // keeps the slot's bucket number moving for the fast path, whatever the window
  let windowCalls = 0;
  const timeKeys = options.windowMs !== undefined || options.buckets !== undefined;
  if (code === TRIP_CONSECUTIVE) {
    for (const key of ["windowMs", "buckets", "windowCalls"]) {
      if (options[key] !== undefined)
        throw new TypeError(
          `${key} does not apply to trip.consecutiveFailures, which counts no window`,
        );
    }
  } else if (options.windowCalls !== undefined) {
    if (timeKeys)
      throw new TypeError(
        "windowCalls (a count window) cannot be combined with windowMs or buckets (a time window)",
      );
    window = WINDOW_COUNT;
    windowCalls = integer("windowCalls", required("windowCalls", options.windowCalls), 1, 65535);
  } else {
    window = WINDOW_TIME;
    ({ buckets, bucketMs } = timeWindow(options, d.windowMs, d.buckets));
  }
  const openMs = real(options, "openMs", d.openMs, Number.MIN_VALUE, MAX, POSITIVE);
  const backoff = real(options, "backoff", d.backoff, 1, MAX, "a finite number ≥ 1");
  const maxOpenMs = real(
    options,
    "maxOpenMs",
    Math.max(openMs, d.maxOpenMs),
    openMs,
    MAX,
    `a finite number ≥ openMs = ${openMs}`,
  );
  const halfOpenMaxCalls = int(options, "halfOpenMaxCalls", d.halfOpenMaxCalls, 1, 65535);
  const halfOpenSuccesses = int(options, "halfOpenSuccesses", halfOpenMaxCalls, 1, 65535);
  const probeTimeoutMs = real(
    options,
    "probeTimeoutMs",
    openMs,
    Number.MIN_VALUE,
    Number.POSITIVE_INFINITY,
    "a number > 0 (Infinity waits for ever)",
  );
  return {
    kind: "three-state",
    trip: code,
    threshold,
    slowThreshold,
    minRequests,
    slowCallMs,
    window,
    buckets,
    bucketMs,
    windowCalls,
    openMs,
    maxOpenMs,
    backoff,
    halfOpenMaxCalls,
    halfOpenSuccesses,
    probeTimeoutMs,
  };
}

/** Checks a policy's options (either kind) and rejects keys of the other kind or of nobody. */
export function checkPolicy(name: string, value: unknown, extra: readonly string[] = []): Policy {
  const raw = checkObject(name, value, new Set([...ADAPTIVE_KEYS, ...THREE_STATE_KEYS, ...extra]));
  const kind = raw.policy ?? (raw.trip !== undefined ? "three-state" : "adaptive");
  if (kind !== "adaptive" && kind !== "three-state") {
    throw new RangeError(`policy must be 'adaptive' or 'three-state', got ${describe(kind)}`);
  }
  const own = kind === "adaptive" ? ADAPTIVE_KEYS : THREE_STATE_KEYS;
  for (const key of Object.keys(raw)) {
    if (!own.includes(key) && !extra.includes(key)) {
      throw new TypeError(
        `${name}: ${key} applies to the ${kind === "adaptive" ? "three-state" : "adaptive"} policy, not the ${kind} one`,
      );
    }
  }
  return kind === "adaptive" ? adaptivePolicy(raw) : threeStatePolicy(raw);
}

export interface CheckedBreakerOptions {
  readonly policy: Policy;
  readonly now: (() => number) | undefined;
  readonly seed: number;
  readonly engine: EngineChoice;
  readonly onDrop: ((report: DropReport) => void) | undefined;
  readonly dropReportMs: number;
  readonly timeoutMs: number | undefined;
  readonly classify: Classify | undefined;
}

export function checkBreakerOptions(name: string, value: unknown): CheckedBreakerOptions {
  const policy = checkPolicy(name, value, BOX_KEYS);
  const options = (value ?? {}) as Record<string, unknown>;
  const now = options.now;
  if (now !== undefined && typeof now !== "function")
    throw new TypeError(`now must be a function returning ms, got ${describe(now)}`);
  const seed =
    options.seed === undefined
      ? Math.floor(Math.random() * 4294967296)
      : int(options, "seed", 0, 0, 4294967295);
  const engine = options.engine ?? "auto";
  if (engine !== "wasm" && engine !== "js" && engine !== "auto") {
    throw new RangeError(`engine must be 'wasm', 'js' or 'auto', got ${describe(engine)}`);
  }
  const onDrop = options.onDrop;
  if (onDrop !== undefined && typeof onDrop !== "function")
    throw new TypeError(`onDrop must be a function, got ${describe(onDrop)}`);
  const dropReportMs = real(options, "dropReportMs", 300_000, 0, MAX, NON_NEGATIVE);
  const timeoutMs =
    options.timeoutMs === undefined ? undefined : checkTimeout("timeoutMs", options.timeoutMs);
  return {
    policy,
    now: now as (() => number) | undefined,
    seed,
    engine,
    onDrop: onDrop as CheckedBreakerOptions["onDrop"],
    dropReportMs,
    timeoutMs,
    classify: checkClassify(options),
  };
}

/** A timeout in ms: a finite number > 0. */
export function checkTimeout(name: string, value: unknown): number {
  return inRange(name, number(name, value, Number.NaN), Number.MIN_VALUE, MAX, POSITIVE);
}
