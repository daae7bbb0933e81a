// Bundles the simulation with the library from source (esbuild) and runs it: see sim/run.ts.
import { build } from "esbuild";

const outfile = new URL("./out/run.mjs", import.meta.url).pathname;
await build({
  entryPoints: [new URL("./run.ts", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outfile,
  logLevel: "warning",
});
await import(outfile);
