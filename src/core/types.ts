// Types every floor shares: the engines' interface, the checked policies the policy table holds,
// and the figures a stats record gives. Nothing here runs; it sits at the bottom of the house so
// that no engine or store imports a type from the facade.

/** Which implementation of the core runs a box. */
export type EngineName = "wasm" | "js";
/** `'auto'`: wasm when it can compile here, else the TypeScript engine. */
export type EngineChoice = EngineName | "auto";

/** The core's operations: numbers in, numbers out. Times are milliseconds, addresses are bytes. */
export interface Core {
  /** (Re)initialises an adaptive slot at `slot` under policy record `policyIndex`. */
  initAdaptive(slot: number, policyIndex: number, seed: number, now: number): void;
  /** Decides one call: 1 pass, 0 drop (the drop is counted). */
  allowAdaptive(slot: number, now: number): number;
  /** Settles one permit of generation `generation` with OUTCOME_SUCCESS or OUTCOME_FAILURE. */
  recordAdaptive(slot: number, generation: number, outcome: number, now: number): number;
  /** Probability that the draw drops the next call (the force pass aside); folds and rolls the window. */
  dropProbability(slot: number, now: number): number;
  /** (Re)initialises a three-state slot at `slot` under policy record `policyIndex`, closed and empty. */
  initThreeState(slot: number, policyIndex: number, now: number): void;
  /** Makes a due lazy transition (open → half-open); CHANGED or 0. */
  refreshThreeState(slot: number, now: number): number;
  /** Opens now for `forMs` (at most maxOpenMs; accelerated tripping); CHANGED or 0. */
  tripThreeState(slot: number, forMs: number, now: number): number;
  /** Sets the manual mode of a three-state slot (MODE_*). */
  setMode(slot: number, mode: number): void;
  /** Moves a three-state slot to `state` now; CHANGED or 0. */
  forceState(slot: number, state: number, now: number): number;
  /** Adds `delta` (±1) to a three-state slot's isolation handles. */
  isolate(slot: number, delta: number): void;
  /** Decides one call on a slot of any kind: DECISION_* plus CHANGED. */
  allow(slot: number, now: number): number;
  /**
   * Counts `successes` and `failures` made elsewhere (a cluster's other instances) on a slot of any
   * kind, as if settled now; CHANGED or 0.
   */
  merge(slot: number, successes: number, failures: number, now: number): number;
  /** Settles one permit on a slot of any kind (OUTCOME_*, with its duration); CHANGED or 0. */
  record(
    slot: number,
    generation: number,
    outcome: number,
    durationMs: number,
    now: number,
  ): number;
  /** Brings every live slot in [first, end) up to `now` and counts those that would reject a call. */
  countDropping(first: number, end: number, now: number): number;
  /** Writes up to `max` stats records (STATS_*) at `out` for the live slots from `first`; returns how many. */
  sweepStats(first: number, end: number, now: number, out: number, max: number): number;
}

/** A core over its memory. */
export interface Engine {
  readonly name: EngineName;
  readonly core: Core;
  /** The memory's current buffer; a new object after every growth. */
  buffer(): ArrayBuffer;
  /** Grows the memory to at least `bytes`, keeping every byte already there. */
  grow(bytes: number): void;
}

/** A checked adaptive policy, as its policy record holds it. */
export interface AdaptivePolicy {
  readonly kind: "adaptive";
  readonly buckets: number;
  readonly bucketMs: number;
  readonly k: number;
  readonly minK: number;
  readonly protection: number;
  readonly forcePassMs: number;
  /** RECOVERY_GO_ZERO or RECOVERY_FAST. */
  readonly recovery: number;
  readonly outageBuckets: number;
}

/** A checked three-state policy, as its policy record holds it (codes from layout.ts). */
export interface ThreeStatePolicy {
  readonly kind: "three-state";
  readonly trip: number;
  /** The trip's threshold; TRIP_RATIOS: the failure ratio. */
  readonly threshold: number;
  /** TRIP_RATIOS: the slow-call ratio (else 0). */
  readonly slowThreshold: number;
  readonly minRequests: number;
  readonly slowCallMs: number;
  readonly window: number;
  readonly buckets: number;
  readonly bucketMs: number;
  readonly windowCalls: number;
  readonly openMs: number;
  readonly maxOpenMs: number;
  readonly backoff: number;
  readonly halfOpenMaxCalls: number;
  readonly halfOpenSuccesses: number;
  /** How long half-open waits for its probes before they count as failed (Infinity: for ever). */
  readonly probeTimeoutMs: number;
}

export type Policy = AdaptivePolicy | ThreeStatePolicy;

/** What `state` reports: the three states, or the manual mode that overrides them. */
export type BreakerState =
  | "closed"
  | "open"
  | "half-open"
  | "forced-open"
  | "disabled"
  | "metrics-only"
  | "isolated";

/** One breaker's figures, as a stats record (STATS_*) gives them. */
export interface SlotStats {
  /** 'adaptive' or 'three-state'. */
  policy: "adaptive" | "three-state";
  /** As `Breaker.state` reports it, without making a due transition. */
  state: BreakerState;
  /** Adaptive: calls in the window, drops included. Three-state: calls settled since the last state change. */
  requests: number;
  successes: number;
  failures: number;
  /** Adaptive: calls dropped in the window. Three-state: 0 (rejections are not counted). */
  drops: number;
  /** Three-state: slow calls since the last state change. Adaptive: 0. */
  slowCalls: number;
  /** Adaptive: the probability that the next call is dropped. Three-state: 1 while rejecting, else 0. */
  dropRatio: number;
  /** Three-state: when the state last changed (ms, on the clock). Adaptive: undefined. */
  changedAt: number | undefined;
}

/** The counts of a three-state breaker since its last state change (gobreaker's Counts). */
export interface BreakerCounts {
  requests: number;
  successes: number;
  failures: number;
  exclusions: number;
  slowCalls: number;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}
