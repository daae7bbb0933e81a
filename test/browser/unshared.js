// A page that is not cross-origin isolated: a shared box must say why it cannot be made.
import { SharedBreakerBox, sharedMemoryAvailable } from "/dist/shared.js";

const result = { isolated: globalThis.crossOriginIsolated, available: sharedMemoryAvailable() };
try {
  new SharedBreakerBox({ maxKeys: 4 });
  result.made = true;
} catch (error) {
  result.errorName = error.name;
  result.errorMessage = error.message;
}
window.result = result;
