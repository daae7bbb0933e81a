// The README's Quick start, run as it is written (against the built package and a real HTTP
// server), so that it cannot drift from the library.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import * as lib from "../dist/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const section = readme.slice(readme.indexOf("## Quick start"));
const block = section.slice(
  section.indexOf("```ts") + 5,
  section.indexOf("```", section.indexOf("```ts") + 5),
);

const server = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ id: 7, name: "Ada", path: req.url }));
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the README's Quick start", () => {
  it("runs as written: its imports exist and its calls do what its comments say", async () => {
    expect(block).toContain('from "breakerbox"');
    const body = block.replace(
      /^import .*$/m,
      "const { Breaker, BreakerBox, isBreakerOpenError } = lib;",
    );
    class NotFoundError extends Error {}
    const warnings: string[] = [];
    const env = {
      url: `${base}/health`,
      id: 7,
      api: { getUser: async (id: number) => (await fetch(`${base}/users/${id}`)).json() },
      fetchUser: async (id: number) => (await fetch(`${base}/users/${id}`)).json(),
      NotFoundError,
      cachedUser: (id: number) => ({ id, name: "cached" }),
      request: { signal: new AbortController().signal },
      respond: (status: number) => ({ status }),
      ok: true,
      log: { warn: (line: string) => warnings.push(line) },
      retryAfterMs: 30_000,
    };
    const AsyncFunction = (async () => {}).constructor as new (
      ...args: string[]
    ) => (lib: unknown, env: unknown) => Promise<Record<string, unknown>>;
    const run = new AsyncFunction(
      "lib",
      "env",
      `const { url, id, api, fetchUser, NotFoundError, cachedUser, request, respond, ok, log, retryAfterMs } = env;
${body}
return { breaker, box, upstream, user };`,
    );
    const { breaker, box, upstream, user } = (await run(lib, env)) as {
      breaker: lib.Breaker;
      box: lib.BreakerBox;
      upstream: lib.Breaker;
      user: { name: string };
    };
    expect(user.name).toBe("Ada");
    expect(breaker.stats().successes).toBe(3); // the permit, do() and the token
    expect(box.get("GET://users/:id").stats().successes).toBe(1);
    expect(upstream.state).toBe("open"); // the Retry-After opened it
    expect(upstream.openUntil - Date.now()).toBeGreaterThan(25_000);
    expect(warnings).toEqual(["upstream breaker closed → open"]);
  });
});
