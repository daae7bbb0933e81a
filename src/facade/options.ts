// Options: what a user may pass, and their defaults. ./check-options.ts checks them at the edge
// and turns them into the checked policies the policy table holds; the core trusts those numbers.

import type { EngineChoice } from "../core/types.js";
import type { Classify } from "./classify.js";

/** The adaptive (Google SRE / go-zero) policy. Every default is go-zero's constant. */
export interface AdaptiveOptions {
  /** 'adaptive' (the default when no `trip` is given). */
  policy?: "adaptive";
  /** Length of the rolling window in ms. Default 10000 (go-zero: 10 s). */
  windowMs?: number;
  /** Buckets in the window, an integer in [1, 255]. Default 40 (250 ms each). windowMs / buckets must be ≥ 1 ms. */
  buckets?: number;
  /** The SRE multiplier K while the window is healthy, ≥ 1. Default 1.5. */
  k?: number;
  /** The floor K decays to as failing buckets accumulate, in [1, k]. Default 1.1. */
  minK?: number;
  /** Requests in the window below which nothing is dropped, ≥ 0. Default 5. */
  protection?: number;
  /** While dropping, one call is let through once this long (ms) passed since the last pass. Default 1000; Infinity turns it off. */
  forcePassMs?: number;
  /**
   * 'fast' (default): go-zero's algorithm plus an outage rule: while the window ends in
   * `outageBuckets` failure-only buckets, only probes pass (one per forcePassMs, the first at once)
   * and the drops are not counted, so the breaker recovers within a probe or two of the backend
   * healing. 'go-zero': go-zero's algorithm exactly, drops counted always (slow to recover).
   */
  recovery?: "go-zero" | "fast";
  /** With recovery 'fast': failure-only buckets in a row that mean an outage, an integer in [1, buckets]. Default 4 (1 s). */
  outageBuckets?: number;
}

/** When a closed three-state breaker opens. */
export type TripOptions =
  /** At the n-th consecutive failure (gobreaker's default, "more than 5", is n = 6). */
  | { consecutiveFailures: number }
  /** When failures / requests in the window reach the ratio, once the window holds minRequests (default 10). */
  | { failureRatio: number; minRequests?: number }
  /** When the window holds this many failures, once it holds minRequests (default 1). */
  | { failureCount: number; minRequests?: number }
  /** When calls slower than slowCallMs / requests reach the ratio, once the window holds minRequests (default 10). */
  | { slowCallRatio: number; slowCallMs: number; minRequests?: number }
  /** Either ratio, whichever the window meets first (resilience4j's two thresholds). */
  | { failureRatio: number; slowCallRatio: number; slowCallMs: number; minRequests?: number };

/** The three-state policy: closed → open → half-open (gobreaker, Sentinel, resilience4j). */
export interface ThreeStateOptions {
  /** 'three-state' (the default when `trip` is given). */
  policy?: "three-state";
  /** When to open. Default { consecutiveFailures: 6 }. */
  trip?: TripOptions;
  /** Time window for ratio and count trips, in ms. Default 10000. */
  windowMs?: number;
  /** Buckets of the time window, an integer in [1, 255]. Default 10. */
  buckets?: number;
  /** Instead of a time window, the last N settled calls, an integer in [1, 65535] (resilience4j COUNT_BASED). */
  windowCalls?: number;
  /** Time open before a probe may go through, ms > 0. Default 60000 (gobreaker's Timeout). */
  openMs?: number;
  /** Each re-opening without a clean close multiplies the open time by this, ≥ 1. Default 1 (no backoff). */
  backoff?: number;
  /** Cap on the open time with backoff, ms ≥ openMs. Default max(openMs, 300000). */
  maxOpenMs?: number;
  /** Probes allowed at once while half-open; further calls are rejected as "too many requests". Default 1. */
  halfOpenMaxCalls?: number;
  /** Consecutive probe successes that close the breaker. Default halfOpenMaxCalls. */
  halfOpenSuccesses?: number;
  /**
   * How long (ms) a half-open breaker waits for its probes: a probe out that long counts as failed
   * and the breaker opens again, with its backoff, so a probe that never settles (a token never
   * settled, a call that hangs) cannot hold it half-open. Default: openMs. Infinity: for ever.
   */
  probeTimeoutMs?: number;
}

/** Either policy's options. */
export type PolicyOptions = AdaptiveOptions | ThreeStateOptions;

/** Options shared by `Breaker` and `BreakerBox`: a policy plus the clock, seed and engine. */
export type BreakerOptions = PolicyOptions &
  Classify & {
    /**
     * Clock in ms, called on every operation. Default: an amortised wall clock read about once per
     * ms under load (see the README, "Engines", Time). A reading below the previous one counts as the previous one.
     */
    now?: () => number;
    /** Seed for the drop draws, an integer in [0, 2^32). Default: from Math.random() once. */
    seed?: number;
    /** 'wasm', 'js' or 'auto' (default): wasm when it can compile here, else the TypeScript engine. */
    engine?: EngineChoice;
    /**
     * Drop reports, like go-zero's "breaker is open and requests dropped" log line: called at most
     * once per `dropReportMs` per breaker while it rejects calls, with how many it rejected since
     * the last report and its last failure reasons. Default: none (silent).
     */
    onDrop?: (report: DropReport) => void;
    /**
     * The default `timeoutMs` of `do()` on this breaker or box's breakers, ms > 0: a call whose
     * promise has not settled by then counts as a failure and rejects with a TimeoutError (see
     * DoOptions.timeoutMs). Default: none.
     */
    timeoutMs?: number;
    /** The least time between two drop reports of one breaker, ms ≥ 0. Default 300000 (go-zero's 5 minutes). */
    dropReportMs?: number;
  };

/** What `onDrop` receives. */
export interface DropReport {
  /** The breaker's key (undefined for a standalone breaker). */
  key: string | undefined;
  message: "circuit breaker is open and requests dropped";
  /** Calls rejected since the previous report, this one included. */
  dropped: number;
  /** Of those, the ones that got no report of their own: dropped − 1. */
  suppressed: number;
  /** The breaker's last failure reasons, oldest first. */
  reasons: string[];
}

export const ADAPTIVE_DEFAULTS = {
  windowMs: 10_000,
  buckets: 40,
  k: 1.5,
  minK: 1.1,
  protection: 5,
  forcePassMs: 1000,
  recovery: "fast",
  outageBuckets: 4,
} as const;

export const THREE_STATE_DEFAULTS = {
  consecutiveFailures: 6,
  windowMs: 10_000,
  buckets: 10,
  openMs: 60_000,
  backoff: 1,
  maxOpenMs: 300_000,
  halfOpenMaxCalls: 1,
  ratioMinRequests: 10,
  countMinRequests: 1,
} as const;
