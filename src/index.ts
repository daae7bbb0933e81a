// breakerbox: circuit breakers for JavaScript with a WebAssembly core.

export type {
  BreakerCounts,
  BreakerState,
  EngineChoice,
  EngineName,
  SlotStats,
} from "./core/types.js";
export type { BreakerBoxOptions, KeyedStats, KeyOptions } from "./facade/box.js";
export { BreakerBox } from "./facade/box.js";
export { Breaker } from "./facade/breaker.js";
export type { Classify } from "./facade/classify.js";
export type { CallContext, DoOptions, Permit } from "./facade/do.js";
export {
  BreakerOpenError,
  isBreakerOpenError,
  isTimeoutError,
  isTooManyRequestsError,
  TimeoutError,
  TooManyRequestsError,
} from "./facade/errors.js";
export type { BoxListener, Listener as StateListener } from "./facade/events.js";
export { REASONS_KEPT } from "./facade/events.js";
export type { BreakerStats } from "./facade/internals.js";
export type {
  AdaptiveOptions,
  BreakerOptions,
  DropReport,
  PolicyOptions,
  ThreeStateOptions,
  TripOptions,
} from "./facade/options.js";
export { ADAPTIVE_DEFAULTS, THREE_STATE_DEFAULTS } from "./facade/options.js";
export type { BreakerSnapshot } from "./facade/snapshot.js";
export type { BreakerTotals } from "./facade/totals.js";
export { clockReads } from "./store/clock.js";
