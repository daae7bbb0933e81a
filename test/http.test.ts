// The HTTP integrations against real servers on 127.0.0.1, driven by real requests (bounded loops).

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import {
  breakerFetch,
  fastifyBreaker,
  fetchMiddleware,
  honoBreaker,
  nodeMiddleware,
  refusalHandler,
  retryAfterMs,
} from "../src/adapters/http.js";
import { BreakerBox, isBreakerOpenError } from "../src/index.js";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

function listen(server: Server): Promise<string> {
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

/** A backend whose health the test flips, counting the requests that reach it. */
function backend() {
  const state = { failing: false, hits: 0 };
  const answer = () => {
    state.hits++;
    return state.failing ? 500 : 200;
  };
  return { state, answer };
}

/** Healthy → no drops; failing → 503s and the backend rate falls; healed → traffic recovers. */
async function exercise(base: string, path: string, state: { failing: boolean; hits: number }) {
  const statuses = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await fetch(base + path)).status);
    return out;
  };
  const healthy = await statuses(20);
  expect(healthy.every((s) => s === 200)).toBe(true);
  state.failing = true;
  const before = state.hits;
  const failing = await statuses(30);
  expect(failing.slice(0, 3)).toEqual([500, 500, 500]); // the third failure trips it
  expect(failing.slice(3).every((s) => s === 503)).toBe(true);
  expect(state.hits - before).toBe(3); // the sick backend saw 3 of the 30
  state.failing = false;
  await new Promise((resolve) => setTimeout(resolve, 250)); // openMs
  const healed = await statuses(10);
  expect(healed.every((s) => s === 200)).toBe(true);
}

const makeBox = () => new BreakerBox({ trip: { consecutiveFailures: 3 }, openMs: 200 });

describe("server middleware", () => {
  it("node:http: one breaker per pathname; its 503 carries Retry-After and a JSON body, no handler run", async () => {
    const box = makeBox();
    const { state, answer } = backend();
    const breaker = nodeMiddleware(box);
    const server = createServer((req, res) =>
      breaker(req, res, () => {
        res.statusCode = req.url === "/health" ? 200 : answer();
        res.end("body");
      }),
    );
    const base = await listen(server);
    await exercise(base, "/anything?x=1", state);
    expect([...box.keys()]).toEqual(["GET:///anything"]);
    state.failing = true;
    for (let i = 0; i < 3; i++) await fetch(`${base}/anything`);
    const hits = state.hits;
    const dropped = await fetch(`${base}/anything`);
    expect(dropped.status).toBe(503);
    expect(dropped.headers.get("retry-after")).toBe("1"); // openMs 200, rounded up to a second
    expect(await dropped.json()).toMatchObject({
      error: "circuit breaker is open",
      key: "GET:///anything",
    });
    expect(state.hits).toBe(hits);
    expect((await fetch(`${base}/health`)).status).toBe(200); // another route, another breaker
  });

  it("Express: the route pattern is the key, random paths make no new breakers", async () => {
    const box = makeBox();
    const { state, answer } = backend();
    const app = express();
    app.get("/users/:id", nodeMiddleware(box), (_req, res) => {
      res.status(answer()).send("ok");
    });
    const base = await listen(createServer(app));
    await exercise(base, "/users/42", state);
    for (let i = 0; i < 50; i++) await fetch(`${base}/users/${Math.random()}`);
    expect([...box.keys()]).toEqual(["GET:///users/:id"]);
  });

  it("Fastify: a plugin keyed by route pattern", async () => {
    const box = makeBox();
    const { state, answer } = backend();
    const app = Fastify();
    await app.register(fastifyBreaker, { box });
    app.get("/users/:id", async (_req, reply) => reply.code(answer()).send("ok"));
    await app.listen({ port: 0, host: "127.0.0.1" });
    closers.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await exercise(base, "/users/7", state);
    expect([...box.keys()]).toEqual(["GET:///users/:id"]);
  });

  it("Hono: a middleware keyed by the matched route", async () => {
    const box = makeBox();
    const { state, answer } = backend();
    const app = new Hono();
    app.use(honoBreaker(box));
    app.get("/users/:id", (c) => c.text("ok", answer() as 200));
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise((resolve) => server.once("listening", resolve));
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await exercise(base, "/users/9", state);
    expect([...box.keys()]).toEqual(["GET:///users/:id"]);
  });

  it("with a raw-path key, maxKeys keeps a random-path flood bounded; excluded requests bypass it", async () => {
    const box = new BreakerBox({ maxKeys: 20 });
    let rejected = 0;
    const breaker = nodeMiddleware(box, {
      key: (req) => `${req.method}://${req.url}`,
      exclude: (req) => req.url === "/health",
      onReject: () => rejected++,
    });
    const server = createServer((req, res) =>
      breaker(req, res, () => {
        res.statusCode = 200;
        res.end();
      }),
    );
    const base = await listen(server);
    for (let i = 0; i < 300; i++) await fetch(`${base}/random/${i}`);
    expect(box.size).toBe(20);
    await fetch(`${base}/health`);
    expect(box.has("GET:///health")).toBe(false);
    expect(rejected).toBe(0);
  });
});

describe("fetch wrapper", () => {
  it("opens per upstream origin on ≥ 500, then throws BreakerOpenError without calling it", async () => {
    const { state, answer } = backend();
    const base = await listen(
      createServer((_req, res) => {
        res.statusCode = answer();
        res.end();
      }),
    );
    const box = new BreakerBox({ trip: { consecutiveFailures: 2 }, openMs: 60_000 });
    const guarded = breakerFetch(box);
    expect((await guarded(`${base}/a`)).status).toBe(200);
    state.failing = true;
    expect((await guarded(`${base}/a`)).status).toBe(500);
    expect((await guarded(`${base}/b`)).status).toBe(500);
    const hits = state.hits;
    await expect(guarded(`${base}/c`)).rejects.toSatisfy(isBreakerOpenError);
    expect(state.hits).toBe(hits);
    expect([...box.keys()]).toEqual([base]);
    expect(box.get(base).stats().reasons).toEqual([
      "500 Internal Server Error",
      "500 Internal Server Error",
    ]);
    const withFallback = breakerFetch(box, {
      fallback: () => new Response("cached", { status: 200 }),
    });
    expect(await (await withFallback(`${base}/d`)).text()).toBe("cached");
  });

  it("a 429 with Retry-After opens a three-state breaker for that long", async () => {
    const base = await listen(
      createServer((_req, res) => {
        res.writeHead(429, { "retry-after": "30" });
        res.end();
      }),
    );
    const box = new BreakerBox({ trip: { consecutiveFailures: 100 }, openMs: 1000 });
    const guarded = breakerFetch(box);
    const before = Date.now();
    expect((await guarded(base)).status).toBe(429);
    const breaker = box.get(base);
    expect(breaker.state).toBe("open");
    expect(breaker.openUntil).toBeGreaterThanOrEqual(before + 30_000);
    expect(breaker.openUntil).toBeLessThan(Date.now() + 31_000);
  });

  it("Retry-After: 2 opens for 2 s, not for openMs (60 s), even when the 429 is the tripping failure", async () => {
    const base = await listen(
      createServer((_req, res) => {
        res.writeHead(429, { "retry-after": "2" });
        res.end();
      }),
    );
    const box = new BreakerBox({ trip: { consecutiveFailures: 1 }, openMs: 60_000 });
    const guarded = breakerFetch(box);
    const before = Date.now();
    expect((await guarded(base)).status).toBe(429);
    const breaker = box.get(base);
    expect(breaker.state).toBe("open");
    expect(breaker.openUntil).toBeGreaterThanOrEqual(before + 2_000);
    expect(breaker.openUntil).toBeLessThan(Date.now() + 3_000);
    expect(breaker.retryAfterMs).toBeLessThanOrEqual(2_000);
  });

  it("network errors count as failures; the caller's own abort counts as neither", async () => {
    const closed = await listen(createServer());
    await closers.pop()!(); // nothing listens there any more
    const box = new BreakerBox({ trip: { consecutiveFailures: 5 } });
    const guarded = breakerFetch(box);
    await expect(guarded(closed)).rejects.toThrow();
    expect(box.get(closed).counts.failures).toBe(1);
    const slow = await listen(createServer((_req, res) => setTimeout(() => res.end(), 2000)));
    const controller = new AbortController();
    const call = guarded(slow, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(call).rejects.toThrow();
    expect(box.get(slow).counts).toMatchObject({ failures: 0, exclusions: 1 });
  });

  it("a hostile Retry-After is held to the breaker's maxOpenMs; the 503 is counted, nothing thrown", async () => {
    const base = await listen(
      createServer((_req, res) => {
        res.writeHead(503, { "retry-after": "1e306" });
        res.end();
      }),
    );
    const box = new BreakerBox({
      trip: { consecutiveFailures: 100 },
      openMs: 1000,
      maxOpenMs: 30_000,
    });
    const guarded = breakerFetch(box);
    expect((await guarded(base)).status).toBe(503);
    const breaker = box.get(base);
    expect(breaker.state).toBe("open");
    expect(breaker.openUntil).toBeLessThanOrEqual(Date.now() + 30_001); // (the clocks differ below 1 ms)
    expect(box.tokens.outstanding).toBe(0);
    expect(retryAfterMs("1e306")).toBe(Number.MAX_VALUE);
  });

  it("a timeout (AbortSignal.timeout) counts as a failure, not as the caller's own abort", async () => {
    const slow = await listen(createServer((_req, res) => setTimeout(() => res.end(), 2000)));
    const box = new BreakerBox({ trip: { consecutiveFailures: 5 } });
    const guarded = breakerFetch(box);
    await expect(guarded(slow, { signal: AbortSignal.timeout(30) })).rejects.toThrow();
    expect(box.get(slow).counts).toMatchObject({ failures: 1, exclusions: 0 });
    expect(box.tokens.outstanding).toBe(0);
  });

  it("breakerFetch's timeoutMs aborts a hanging upstream and counts it as a failure", async () => {
    const slow = await listen(createServer((_req, res) => setTimeout(() => res.end(), 2000)));
    const box = new BreakerBox({ trip: { consecutiveFailures: 2 } });
    const guarded = breakerFetch(box, { timeoutMs: 30 });
    await expect(guarded(slow)).rejects.toThrow();
    await expect(guarded(slow)).rejects.toThrow();
    expect(box.get(slow).state).toBe("open"); // two timeouts, two failures
    await expect(guarded(slow)).rejects.toMatchObject({ name: "BreakerOpenError" });
    expect(() => breakerFetch(box, { timeoutMs: 0 })).toThrow(
      /timeoutMs must be a finite number > 0/,
    );
  });

  it("fetchMiddleware: a next() that answers no Response is a failure and a clear error", async () => {
    const box = new BreakerBox({ trip: { consecutiveFailures: 5 } });
    const middleware = fetchMiddleware(box);
    const request = new Request("http://127.0.0.1/x");
    await expect(middleware(request, async () => undefined as never)).rejects.toThrow(
      /next\(\) must resolve to a Response, got undefined/,
    );
    expect(box.get("GET:///x").counts.failures).toBe(1);
    expect(box.tokens.outstanding).toBe(0);
  });

  it("a URL that is not absolute is a TypeError that says so, and takes no breaker", async () => {
    const box = new BreakerBox();
    const guarded = breakerFetch(box, { fetch: async () => new Response("never") });
    await expect(guarded("/relative/path")).rejects.toThrow(
      'breakerFetch needs an absolute URL (the breaker is keyed by its origin), got "/relative/path"',
    );
    expect(box.size).toBe(0);
  });

  it("reads Retry-After as seconds or as a date", () => {
    expect(retryAfterMs("120")).toBe(120_000);
    expect(
      retryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:27:00 GMT")),
    ).toBe(60_000);
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe("server middleware for a gateway", () => {
  /** A client-side box whose one upstream breaker is open for 30 s. */
  const openUpstream = () => {
    const upstream = new BreakerBox({ policy: "three-state", trip: { consecutiveFailures: 1 } });
    const breaker = upstream.get("https://api.example");
    breaker.reject(breaker.tryAcquire(), "503", 30_000);
    return upstream;
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("Express: the gateway's own 503 (an upstream's breaker refused) is neither success nor failure", async () => {
    const box = makeBox();
    const upstream = openUpstream();
    const app = express();
    app.use(nodeMiddleware(box));
    app.get("/orders", (_req, _res, next) => {
      try {
        upstream.do("https://api.example", () => "never");
      } catch (error) {
        next(error);
      }
    });
    app.use(refusalHandler());
    const base = await listen(createServer(app));
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${base}/orders`);
      expect(response.status).toBe(503);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
      expect(await response.json()).toMatchObject({ key: "https://api.example" });
    }
    const own = box.get("GET:///orders");
    expect(own.state).toBe("closed"); // 5 refusals, threshold 3: no feedback loop
    expect(own.counts).toMatchObject({ failures: 0, exclusions: 5 });
  });

  /** Serves a fetch handler on a real node:http server (@hono/node-server); its base URL. */
  const serveFetch = async (fetch: (request: Request) => Response | Promise<Response>) => {
    const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise((resolve) => server.once("listening", resolve));
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  it("fetchMiddleware and Hono: a thrown refusal becomes a 503 with Retry-After, counted as neither", async () => {
    const box = makeBox();
    const upstream = openUpstream();
    const middleware = fetchMiddleware(box, { refusal: "text" });
    const refused = () => upstream.do("https://api.example", () => new Response("never"));
    const base = await serveFetch((request) => middleware(request, async () => refused()));
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${base}/a`);
      expect(response.status).toBe(503);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
      expect(await response.text()).toBe("circuit breaker is open\n");
    }
    expect(box.get("GET:///a").counts).toMatchObject({ failures: 0, exclusions: 4 });

    const honoBox = makeBox();
    const app = new Hono();
    app.use(honoBreaker(honoBox, { refusal: "none" }));
    app.get("/b/:id", () => refused());
    const honoBase = await serveFetch(app.fetch);
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${honoBase}/b/${i}`);
      expect(response.status).toBe(503);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
      expect(await response.text()).toBe("");
    }
    expect(honoBox.get("GET:///b/:id").counts).toMatchObject({ failures: 0, exclusions: 4 });
  });

  it("Fastify: a thrown refusal is a 503 with Retry-After, counted as neither", async () => {
    const box = makeBox();
    const upstream = openUpstream();
    const app = Fastify();
    await app.register(fastifyBreaker, { box });
    app.get("/c", async () => upstream.do("https://api.example", () => "never"));
    await app.listen({ port: 0, host: "127.0.0.1" });
    closers.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${base}/c`);
      expect(response.status).toBe(503);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
    }
    expect(box.get("GET:///c").counts).toMatchObject({ failures: 0, exclusions: 4 });
  });

  it("Fastify and Hono: a breaker's own refusal carries Retry-After and a JSON body; other routes go on", async () => {
    const fastifyBox = makeBox();
    const app = Fastify();
    await app.register(fastifyBreaker, { box: fastifyBox, excludePaths: ["/health"] });
    app.get("/d", async (_req, reply) => reply.code(500).send("down"));
    app.get("/health", async () => "ok");
    await app.listen({ port: 0, host: "127.0.0.1" });
    closers.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/d`)).status).toBe(500);
    const refused = await fetch(`${base}/d`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ key: "GET:///d" });
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(fastifyBox.has("GET:///health")).toBe(false);

    const honoBox = makeBox();
    const hono = new Hono();
    hono.use(honoBreaker(honoBox));
    hono.get("/e", (c) => c.text("down", 500));
    const honoBase = await serveFetch(hono.fetch);
    for (let i = 0; i < 3; i++) expect((await fetch(`${honoBase}/e`)).status).toBe(500);
    const honoRefused = await fetch(`${honoBase}/e`);
    expect(honoRefused.status).toBe(503);
    expect(honoRefused.headers.get("retry-after")).toBe("1");
    expect(await honoRefused.json()).toMatchObject({ error: "circuit breaker is open" });
  });

  it("default keys: pathnames up to maxRouteKeys, then METHOD://*; excludePaths take no breaker", async () => {
    const box = makeBox();
    const middleware = fetchMiddleware(box, { maxRouteKeys: 2, excludePaths: ["/metrics"] });
    const ok = async () => new Response("ok");
    for (const path of ["/a", "/b", "/c", "/d", "/a", "/metrics"])
      await middleware(new Request(`http://gw${path}?q=1`), ok);
    expect([...box.keys()].sort()).toEqual(["GET:///a", "GET:///b", "GET://*"].sort());
    expect(() => fetchMiddleware(box, { maxRouteKeys: -1 })).toThrow(/maxRouteKeys must be/);
    expect(() => fetchMiddleware(box, { refusal: "xml" as never })).toThrow(/refusal must be/);
    expect(() => fetchMiddleware(box, { excludePaths: "/x" as never })).toThrow(/excludePaths/);
    expect(() => fetchMiddleware(box, { timeoutMs: 0 })).toThrow(/timeoutMs must be/);
  });

  it("timeoutMs: a response later than it counts as a failure; a client gone after it too", async () => {
    const box = new BreakerBox({ trip: { consecutiveFailures: 100 } });
    const middleware = nodeMiddleware(box, { timeoutMs: 250 });
    const server = createServer((req, res) =>
      middleware(req, res, () => {
        const delay = req.url === "/slow" ? 500 : 0;
        setTimeout(() => res.end("late or not"), delay);
      }),
    );
    const base = await listen(server);
    await fetch(`${base}/fast`);
    await fetch(`${base}/slow`);
    const gone = new AbortController();
    const call = fetch(`${base}/slow`, { signal: gone.signal }).catch(() => undefined);
    await sleep(300);
    gone.abort();
    await call;
    await sleep(300);
    expect(box.get("GET:///fast").counts).toMatchObject({ successes: 1, failures: 0 });
    expect(box.get("GET:///slow").counts).toMatchObject({ successes: 0, failures: 2 });
    expect(box.get("GET:///slow").stats().reasons).toContain(
      "the request was not answered within 250 ms",
    );
  });
});
