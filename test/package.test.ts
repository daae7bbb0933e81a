// Package hygiene: what a user installs, how it resolves, and what it weighs in a browser.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { publint } from "publint";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
/**
 * The browser entry's budget, minified and gzipped, wasm included: 22 KiB. It was 15 KiB until
 * the facade was rebuilt over an explicit store (15,358 → 16,662 bytes: the policy-record codec
 * and its identity, the typed views, one Store over pluggable spaces), and breakers kept their JS
 * state by number in the box instead of on an object each (→ 17,089 bytes), the first hardening
 * against lost permits and odd input (→ 17,469 bytes), the snapshot check (→ 18,111 bytes),
 * policy records freed for reuse (→ 18,310 bytes), probe leases (→ 18,457 bytes) and do() with
 * timeouts and signals (→ 19,360 bytes), token leases, success-completed trips and Retry-After
 * as asked (→ 19,931 bytes), adaptive and box-wide events (→ 20,324 bytes), lifetime totals
 * (→ 20,597 bytes), and both ratios in one trip, initialState beside agreeing options and the
 * classifiers given at creation (→ 21,224 bytes), and Breaker.merge/trip and box.forEachTotals,
 * the seam of breakerbox/redis (→ 21,710 bytes), and box.watchStats for breakerbox/dashboard
 * (→ 22,097 bytes); see the README, "Browsers and bundlers".
 */
const BUDGET = 22 * 1024;

describe("package", () => {
  it(`the browser entry weighs at most ${BUDGET} bytes, minified and gzipped, wasm included`, async () => {
    const out = await build({
      entryPoints: [join(root, "dist/index.js")],
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    const size = gzipSync(out.outputFiles[0].contents, { level: 9 }).length;
    console.log(`browser entry: ${size} bytes min+gzip (budget ${BUDGET})`);
    expect(size).toBeLessThanOrEqual(BUDGET);
  });

  it("the published types carry no internal part (stripInternal)", async () => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const types = readdirSync(join(root, "dist"))
      .filter((f) => f.endsWith(".d.ts"))
      .map((f) => readFileSync(join(root, "dist", f), "utf8"))
      .join("\n");
    expect(types).toContain("declare class BreakerBox");
    for (const internal of [
      "Placement",
      "BoxParts",
      "BoxContext",
      "PolicyTable",
      "declare class Store",
      "@internal",
    ]) {
      expect(types).not.toContain(internal);
    }
  });

  it("npm pack ships only dist/, README.md, LICENSE and package.json", () => {
    const [pack] = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
        cwd: root,
        encoding: "utf8",
      }),
    );
    const files: string[] = pack.files.map((f: { path: string }) => f.path);
    expect(
      files.filter(
        (f) => !f.startsWith("dist/") && !["README.md", "LICENSE", "package.json"].includes(f),
      ),
    ).toEqual([]);
    for (const entry of ["index", "http", "prometheus", "otel"]) {
      for (const ext of [".js", ".cjs", ".d.ts", ".d.cts"])
        expect(files).toContain(`dist/${entry}${ext}`);
    }
  });

  it("publint finds nothing wrong", async () => {
    const { messages } = await publint({ pkgDir: root, strict: true, level: "warning" });
    expect(messages).toEqual([]);
  });

  it("are-the-types-wrong: every entry resolves for ESM, CJS and bundlers", () => {
    // node10 has no "exports" and cannot reach the subpaths at all: ignored.
    const out = execFileSync(
      "npx",
      ["attw", "--pack", ".", "--profile", "node16", "--format", "json"],
      { cwd: root, encoding: "utf8" },
    );
    const report = JSON.parse(out);
    const problems = (report.analysis.problems ?? []).filter(
      (p: { resolutionKind?: string }) => p.resolutionKind !== "node10",
    );
    expect(problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints)).toEqual([
      ".",
      "./shared",
      "./http",
      "./prometheus",
      "./otel",
      "./redis",
      "./dashboard",
      "./package.json",
    ]);
  }, 60_000);

  it("a packed tarball installs into a project; require and import both work, subpaths too", () => {
    const dir = mkdtempSync(join(tmpdir(), "breakerbox-pack-"));
    const tarball = execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], {
      cwd: root,
      encoding: "utf8",
    })
      .trim()
      .split("\n")
      .pop()!;
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true }));
    execFileSync(
      "npm",
      ["install", "--no-audit", "--no-fund", "--offline", "--ignore-scripts", join(dir, tarball)],
      { cwd: dir, stdio: "ignore" },
    );
    const cjs = execFileSync(
      "node",
      [
        "-e",
        [
          "const { Breaker, BreakerBox } = require('breakerbox'); const http = require('breakerbox/http');",
          "const { SharedBreakerBox } = require('breakerbox/shared');",
          "const { joinCluster } = require('breakerbox/redis');",
          "const b = new Breaker(); b.accept(b.tryAcquire());",
          "const shared = new SharedBreakerBox({ maxKeys: 4 });",
          "console.log(b.engine, b.stats().successes, typeof http.breakerFetch, shared.engine, shared instanceof BreakerBox, typeof joinCluster);",
        ].join("\n"),
      ],
      { cwd: dir, encoding: "utf8" },
    );
    // One copy of the classes across entries (CJS chunks too): a shared box is a BreakerBox.
    expect(cjs.trim()).toBe("wasm 1 function wasm true function");
    const esm = execFileSync(
      "node",
      [
        "--input-type=module",
        "-e",
        [
          "import { Breaker, BreakerBox } from 'breakerbox'; import { nodeMiddleware } from 'breakerbox/http';",
          "import { SharedBreakerBox } from 'breakerbox/shared';",
          "const b = new BreakerBox({ engine: 'js' }); b.get('k').accept(b.get('k').tryAcquire());",
          "const shared = new SharedBreakerBox({ engine: 'js', maxKeys: 4 });",
          "console.log(b.engine, b.get('k').stats().successes, typeof nodeMiddleware, new Breaker().engine, shared instanceof BreakerBox);",
        ].join("\n"),
      ],
      { cwd: dir, encoding: "utf8" },
    );
    expect(esm.trim()).toBe("js 1 function wasm true");
  }, 60_000);
});
