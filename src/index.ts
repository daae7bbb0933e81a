// breakerbox: circuit breakers for JavaScript with a WebAssembly core.

export { Breaker, REASONS_KEPT } from "./breaker.js";
export type { BreakerStats, DoOptions, Permit } from "./breaker.js";
export { BreakerBox } from "./box.js";
export type { BreakerBoxOptions } from "./box.js";
export { BreakerOpenError, isBreakerOpenError } from "./errors.js";
export type { EngineChoice, EngineName } from "./engine.js";
export type { AdaptiveOptions, BreakerOptions } from "./options.js";
export { ADAPTIVE_DEFAULTS } from "./options.js";
export { clockReads } from "./clock.js";
