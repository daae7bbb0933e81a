// The wasm core's exports: integers and floats only, no strings, no objects, no imports.
// The TypeScript engine (src/engine-js/index.ts) exports the same names with the same meaning;
// src/engine.ts types them once as `Core`.

export { initAdaptive, allowAdaptive, recordAdaptive, dropProbability } from "./adaptive";
export { initThreeState, refreshThreeState, tripThreeState, setMode, forceState, isolate } from "./three-state";
export { allow, record, merge } from "./slot";
export { countDropping, sweepStats } from "./sweep";
