// The seam between the facade and the cores. Both engines expose the same `Core` functions over the
// same bytes (src/core/layout.ts); the facade never needs to know which one it drives, and this
// file is the one place that chooses.

import { createJsEngine } from "./engine-js/index.js";
import { createWasmEngine } from "./engine-wasm/loader.js";

/** The core's operations: numbers in, numbers out. Times are milliseconds, addresses are bytes. */
export interface Core {
  /** (Re)initialises an adaptive slot at `slot` under policy record `policyIndex`. */
  initAdaptive(slot: number, policyIndex: number, seed: number, now: number): void;
  /** Decides one call: 1 pass, 0 drop (the drop is counted). */
  allowAdaptive(slot: number, now: number): number;
  /** Settles one permit of generation `generation` with OUTCOME_SUCCESS or OUTCOME_FAILURE. */
  recordAdaptive(slot: number, generation: number, outcome: number, now: number): void;
  /** Probability that the draw drops the next call (the force pass aside); folds and rolls the window. */
  dropProbability(slot: number, now: number): number;
  /** (Re)initialises a three-state slot at `slot` under policy record `policyIndex`, closed and empty. */
  initThreeState(slot: number, policyIndex: number, now: number): void;
  /** Makes a due lazy transition (open → half-open); CHANGED or 0. */
  refreshThreeState(slot: number, now: number): number;
  /** Opens now for at least `atLeastMs` (accelerated tripping); CHANGED or 0. */
  tripThreeState(slot: number, atLeastMs: number, now: number): number;
  /** Sets the manual mode of a three-state slot (MODE_*). */
  setMode(slot: number, mode: number): void;
  /** Moves a three-state slot to `state` now; CHANGED or 0. */
  forceState(slot: number, state: number, now: number): number;
  /** Adds `delta` (±1) to a three-state slot's isolation handles. */
  isolate(slot: number, delta: number): void;
  /** Decides one call on a slot of any kind: DECISION_* plus CHANGED. */
  allow(slot: number, now: number): number;
  /** Settles one permit on a slot of any kind (OUTCOME_*, with its duration); CHANGED or 0. */
  record(slot: number, generation: number, outcome: number, durationMs: number, now: number): number;
  /** Brings every live slot in [first, end) up to `now` and counts those that would reject a call. */
  countDropping(first: number, end: number, now: number): number;
  /** Writes up to `max` stats records (STATS_*) at `out` for the live slots from `first`; returns how many. */
  sweepStats(first: number, end: number, now: number, out: number, max: number): number;
}

export type EngineName = "wasm" | "js";
export type EngineChoice = EngineName | "auto";

export interface Engine {
  readonly name: EngineName;
  readonly core: Core;
  /** The memory's current buffer; a new object after every growth. */
  buffer(): ArrayBuffer;
  /** Grows the memory to at least `bytes`, keeping every byte already there. */
  grow(bytes: number): void;
}

/**
 * Builds an engine with at least `bytes` of zeroed memory. `'auto'` takes WebAssembly when it can
 * compile here and the TypeScript engine when it cannot (no WebAssembly, or a CSP without
 * 'wasm-unsafe-eval'); `'wasm'` throws instead of falling back.
 */
export function createEngine(choice: EngineChoice, bytes: number): Engine {
  if (choice === "js") return createJsEngine(bytes);
  if (choice === "wasm") return createWasmEngine(bytes);
  let engine: Engine;
  try {
    engine = createWasmEngine(bytes);
  } catch {
    engine = createJsEngine(bytes);
  }
  return engine;
}
