// The built package in a real browser: Debian's Chromium, headless, driven by playwright-core.
// Pages are served from 127.0.0.1. .ci/run installs chromium; elsewhere, without it, these skip.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, chromiumPresent as present } from "./browser/chromium.js";
import { serve } from "./browser/serve.js";

const root = new URL("..", import.meta.url).pathname;
const dist = join(root, "dist");

interface Result {
  error?: string;
  auto: string;
  sameDecisions: boolean;
  sameStats: boolean;
  drops: number;
  doValue: number;
  asyncValue: string;
  openError: string;
  boxSize: number;
  swept: number;
  wasmError?: string;
}

describe.skipIf(!present)("in Chromium", () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serve>>;
  let app: string;

  beforeAll(async () => {
    if (!existsSync(join(dist, "index.js")))
      throw new Error("dist/ is missing: npm test builds it first (pretest)");
    // A tiny Vite app importing the package, bundled the way users bundle it.
    app = mkdtempSync(join(tmpdir(), "breakerbox-vite-"));
    writeFileSync(
      join(app, "index.html"),
      '<!doctype html><script type="module" src="./main.js"></script>',
    );
    writeFileSync(
      join(app, "main.js"),
      [
        'import * as lib from "breakerbox";',
        `import { scenario } from ${JSON.stringify(join(root, "test/browser/scenario.js"))};`,
        "scenario(lib).then((r) => { window.result = r; }, (e) => { window.result = { error: String(e) }; });",
      ].join("\n"),
    );
    const { build } = await import("vite");
    await build({
      root: app,
      base: "/app/",
      logLevel: "silent",
      configFile: false,
      resolve: { alias: { breakerbox: join(dist, "index.js") } },
      build: { outDir: join(app, "out"), emptyOutDir: true },
    });
    server = await serve(
      { "/dist/": dist, "/test/": join(root, "test/browser"), "/app/": join(app, "out") },
      {
        "/": { html: '<!doctype html><script type="module" src="/test/page.js"></script>' },
        "/shared": {
          html: '<!doctype html><script type="module" src="/test/shared.js"></script>',
          headers: {
            "cross-origin-opener-policy": "same-origin",
            "cross-origin-embedder-policy": "require-corp",
          },
        },
        "/unshared": {
          html: '<!doctype html><script type="module" src="/test/unshared.js"></script>',
        },
        "/csp": {
          html: '<!doctype html><script type="module" src="/test/csp.js"></script>',
          headers: { "content-security-policy": "default-src 'self'; script-src 'self'" },
        },
      },
    );
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open<T = Result>(path: string): Promise<T> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(server.url + path);
    await page.waitForFunction(
      () => (window as unknown as { result?: unknown }).result !== undefined,
      undefined,
      { timeout: 30_000 },
    );
    const result = await page.evaluate(() => (window as unknown as { result: T }).result);
    await page.close();
    expect(errors).toEqual([]);
    return result;
  }

  const works = (result: Result) => {
    expect(result.error).toBeUndefined();
    expect(result.sameDecisions).toBe(true);
    expect(result.sameStats).toBe(true);
    expect(result.drops).toBeGreaterThan(100);
    expect(result.doValue).toBe(42);
    expect(result.asyncValue).toBe("async");
    expect(result.openError).toBe("circuit breaker is open");
    expect(result.boxSize).toBe(1000);
    expect(result.swept).toBe(1000);
  };

  it("the ESM package runs on the wasm engine, deciding exactly as the TypeScript engine", async () => {
    const result = await open("/");
    expect(result.auto).toBe("wasm");
    works(result);
  });

  it("under a CSP without 'wasm-unsafe-eval', 'auto' falls back to TypeScript and 'wasm' says why", async () => {
    const result = await open("/csp");
    expect(result.auto).toBe("js");
    expect(result.wasmError).toMatch(
      /could not be compiled here.*wasm-unsafe-eval.*engine: 'js' or 'auto'/,
    );
    works(result);
  });

  interface SharedRun {
    engine: string;
    successes: number;
    failures: number;
    issuedSuccesses: number;
    issuedFailures: number;
    size: number;
    own: number[];
  }

  it("a cross-origin isolated page shares one box with two Web Workers, on both engines", async () => {
    const result = await open<{
      isolated: boolean;
      available: boolean;
      error?: string;
      wasm: SharedRun;
      js: SharedRun;
    }>("/shared");
    expect(result.error).toBeUndefined();
    expect(result.isolated).toBe(true);
    expect(result.available).toBe(true);
    for (const engine of ["wasm", "js"] as const) {
      const run = result[engine];
      expect(run.engine).toBe(engine);
      expect(run.successes).toBe(run.issuedSuccesses);
      expect(run.failures).toBe(run.issuedFailures);
      expect(run.successes + run.failures).toBe(40_000);
      expect(run.size).toBe(3);
      expect(run.own).toEqual([20_000, 20_000]);
    }
  });

  it("a page that is not cross-origin isolated gets a clear error for a shared box", async () => {
    const result = await open<{
      isolated: boolean;
      available: boolean;
      made?: boolean;
      errorName?: string;
      errorMessage?: string;
    }>("/unshared");
    expect(result.isolated).toBe(false);
    expect(result.available).toBe(false);
    expect(result.made).toBeUndefined();
    expect(result.errorName).toBe("TypeError");
    expect(result.errorMessage).toMatch(
      /cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/,
    );
  });

  it("a Vite bundle of an app importing the package runs", async () => {
    const result = await open("/app/index.html");
    expect(result.auto).toBe("wasm");
    works(result);
  });
});
