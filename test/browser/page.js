// The plain page: the package's ESM entry, both engines side by side.
import * as lib from "/dist/index.js";
import { scenario } from "/test/scenario.js";

scenario(lib).then(
  (result) => {
    window.result = result;
  },
  (error) => {
    window.result = { error: String(error) };
  },
);
