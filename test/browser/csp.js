// Runs under a Content-Security-Policy without 'wasm-unsafe-eval': no wasm can compile here.
import * as lib from "/dist/index.js";
import { scenario } from "/test/scenario.js";

const result = {};
try {
  new lib.Breaker({ engine: "wasm" });
  result.wasmError = "none";
} catch (error) {
  result.wasmError = error.message;
}
scenario(lib, ["auto", "js"]).then(
  (run) => {
    window.result = { ...run, ...result };
  },
  (error) => {
    window.result = { error: String(error), ...result };
  },
);
