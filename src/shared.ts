// breakerbox/shared: one breaker box for every thread (see ./facade/shared-box.ts).

export type { AttachOptions, SharedBreakerBoxOptions, ShareHandle } from "./facade/shared-box.js";
export { SharedBreakerBox } from "./facade/shared-box.js";
export { sharedMemoryAvailable } from "./store/shared-space.js";
