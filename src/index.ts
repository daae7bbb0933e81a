// breakerbox: circuit breakers for JavaScript with a WebAssembly core.

export { Breaker, REASONS_KEPT } from "./breaker.js";
export type { BreakerCounts, BreakerState, BreakerStats, DoOptions, Permit } from "./breaker.js";
export { BreakerBox } from "./box.js";
export type { BreakerBoxOptions, KeyedStats } from "./box.js";
export type { SlotStats } from "./box-memory.js";
export { BreakerOpenError, isBreakerOpenError, isTooManyRequestsError, TooManyRequestsError } from "./errors.js";
export type { EngineChoice, EngineName } from "./engine.js";
export type { AdaptiveOptions, BreakerOptions, DropReport, PolicyOptions, ThreeStateOptions, TripOptions } from "./options.js";
export { ADAPTIVE_DEFAULTS, THREE_STATE_DEFAULTS } from "./options.js";
export { clockReads } from "./clock.js";
export type { BreakerSnapshot } from "./snapshot.js";
