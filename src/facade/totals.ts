// Lifetime totals per breaker, for operators' counters (Prometheus `_total`, OTel counters): what
// the windows and the since-the-last-change counts cannot say. Kept by the box in one
// Float64Array by ordinal, only once asked for (`box.countTotals()`, or an exporter registering):
// until then the calls pay one load and a branch. A shared box keeps each thread's own.

/** One breaker's lifetime totals since the box began counting them. */
export interface BreakerTotals {
  /** Calls settled as a success. */
  successes: number;
  /** Calls settled as a failure, timeouts included. */
  failures: number;
  /** Calls settled as neither (exclusions, the caller's aborts). */
  exclusions: number;
  /** Calls the breaker refused (open, shedding, forced open, isolated, probes full). */
  rejections: number;
  /** Calls that ran out of their `timeoutMs` (also counted as failures). */
  timeouts: number;
}

export const T_SUCCESSES = 0;
export const T_FAILURES = 1;
export const T_EXCLUSIONS = 2;
export const T_REJECTIONS = 3;
export const T_TIMEOUTS = 4;
/** Cells per breaker. */
export const T_STRIDE = 5;

/** The totals of `ordinal` in `totals`. */
export function totalsAt(totals: Float64Array, ordinal: number): BreakerTotals {
  const at = ordinal * T_STRIDE;
  return {
    successes: totals[at + T_SUCCESSES],
    failures: totals[at + T_FAILURES],
    exclusions: totals[at + T_EXCLUSIONS],
    rejections: totals[at + T_REJECTIONS],
    timeouts: totals[at + T_TIMEOUTS],
  };
}
