// breakerbox/dashboard in Debian's Chromium (playwright-core), served from 127.0.0.1 by node:http
// and by a fetch handler: a breaker that trips shows as open, search filters, actions work only
// when authorized, nothing is fetched from another origin, the page keeps to its strict CSP, and
// 100,000 breakers put only the rows on screen in the DOM.

import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboard } from "../src/adapters/dashboard.js";
import { BreakerBox } from "../src/index.js";
import { launchChromium, chromiumPresent as present } from "./browser/chromium.js";

describe.skipIf(!present)("the dashboard in Chromium", () => {
  let browser: Browser;
  const servers: Server[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  });

  const listen = (server: Server) =>
    new Promise<string>((resolve) => {
      servers.push(server);
      server.listen(0, "127.0.0.1", () =>
        resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      );
    });

  /** A page on `url` that records every request it makes and every console error (CSP reports). */
  async function open(url: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
    const page = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    page.on("console", (message) => {
      // The tests' own refused actions log their 403s; anything else is a fault.
      if (message.type() === "error" && !message.text().includes("status of 403"))
        errors.push(message.text());
    });
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(url);
    return { page, requests, errors };
  }

  const rowState = (page: Page, key: string) =>
    page.locator(`.row[data-key="${key}"] .state`).first().textContent({ timeout: 2000 });

  it("node:http: a breaker that trips shows as open within 2 s; search filters; read-only without authorize", async () => {
    const box = new BreakerBox({ policy: "three-state", trip: { consecutiveFailures: 2 } });
    for (const key of ["users", "orders", "payments"])
      box.get(key).accept(box.get(key).tryAcquire());
    const board = dashboard(box, { intervalMs: 200 });
    const base = await listen(createServer((req, res) => board.node(req, res)));
    const { page, requests, errors } = await open(`${base}/breakers`);
    expect(await rowState(page, "orders")).toBe("closed");
    const orders = box.get("orders");
    orders.reject(orders.tryAcquire(), "503");
    orders.reject(orders.tryAcquire(), "503");
    await page.waitForFunction(
      () => document.querySelector('.row[data-key="orders"] .state')?.textContent === "open",
      undefined,
      { timeout: 2000 },
    );
    // Most troubled first.
    expect(await page.locator(".row:not([hidden])").first().getAttribute("data-key")).toBe(
      "orders",
    );
    // The README's picture, made by this browser.
    mkdirSync(new URL("../docs", import.meta.url), { recursive: true });
    await page.setViewportSize({ width: 1280, height: 300 });
    await page.screenshot({ path: new URL("../docs/dashboard.png", import.meta.url).pathname });
    await page.fill("#search", "pay");
    await page.waitForFunction(() => document.querySelectorAll(".row:not([hidden])").length === 1);
    expect(await page.locator(".row:not([hidden])").first().getAttribute("data-key")).toBe(
      "payments",
    );
    expect(await page.locator("button").count()).toBe(0); // read-only
    const refused = await page.evaluate(async () => {
      const response = await fetch("/breakers/action", {
        method: "POST",
        headers: {
          "x-csrf-token": document.querySelector<HTMLMetaElement>('meta[name="csrf"]')!.content,
        },
        body: JSON.stringify({ box: "default", key: "orders", action: "force-close" }),
      });
      return response.status;
    });
    expect(refused).toBe(403);
    expect(orders.state).toBe("open");
    expect(requests.every((url) => url.startsWith(base))).toBe(true); // nothing from elsewhere
    expect(errors.join("\n")).toBe(""); // no CSP violation, no script error
    // Express: app.use(board.node) serves the dashboard's paths and passes the others on.
    const express = (await import("express")).default;
    const app = express();
    app.use(board.node);
    app.get("/other", (_req, res) => {
      res.send("the gateway's own route");
    });
    const viaExpress = await listen(createServer(app));
    expect((await fetch(`${viaExpress}/breakers/app.js`)).status).toBe(200);
    expect(await (await fetch(`${viaExpress}/other`)).text()).toBe("the gateway's own route");
    const headers = await (await fetch(`${base}/breakers`)).headers;
    expect(headers.get("content-security-policy")).toContain(
      "default-src 'none'; script-src 'self'",
    );
    await page.close();
    board.close();
  });

  it("fetch handler under Hono: actions with authorization and a CSRF token, refused without", async () => {
    const box = new BreakerBox({ policy: "three-state" });
    box.get("api").accept(box.get("api").tryAcquire());
    let allow = true;
    const board = dashboard({ edge: box }, { intervalMs: 200, authorize: () => allow });
    const app = new Hono(); // mounted as the README shows
    app.all("/breakers/*", (c) => board.fetch(c.req.raw));
    app.get("/", (c) => c.text("the gateway's own route"));
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise((resolve) => server.once("listening", resolve));
    servers.push(server);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { page, errors } = await open(`${base}/breakers`);
    await page.click('button[aria-label="Open api"]');
    await page.waitForFunction(
      () => document.querySelector('.row[data-key="api"] .state')?.textContent === "forced-open",
      undefined,
      { timeout: 2000 },
    );
    expect(box.get("api").state).toBe("forced-open");
    expect(await page.locator("#feed").textContent()).toContain("force-open edge / api");
    allow = false;
    await page.click('button[aria-label="Close api"]');
    await page.waitForFunction(() => document.querySelector("#feed")?.textContent?.includes("403"));
    expect(box.get("api").state).toBe("forced-open");
    // Without the page's token (another site's form, say) nothing happens either.
    allow = true;
    const forged = await fetch(`${base}/breakers/action`, {
      method: "POST",
      headers: { "x-csrf-token": "0".repeat(32) },
      body: JSON.stringify({ box: "edge", key: "api", action: "force-close" }),
    });
    expect(forged.status).toBe(403);
    expect(box.get("api").state).toBe("forced-open");
    expect(errors.join("\n")).toBe("");
    await page.close();
    board.close();
  });

  it("100,000 breakers: the first screen shows the most troubled, and only the rows on screen are in the DOM", async () => {
    const box = new BreakerBox({ engine: "wasm" });
    for (let i = 0; i < 100_000; i++) box.get(`upstream-${i}`);
    const sick = box.get("upstream-77777");
    for (let i = 0; i < 200; i++) {
      const token = sick.tryAcquire();
      if (token !== 0) sick.reject(token);
    }
    const board = dashboard(box);
    const base = await listen(createServer((req, res) => board.node(req, res)));
    const { page, errors } = await open(`${base}/breakers`);
    await page.waitForFunction(
      () => document.querySelectorAll(".row:not([hidden])").length > 0,
      undefined,
      {
        timeout: 20_000,
      },
    );
    expect(await page.locator(".row:not([hidden])").first().getAttribute("data-key")).toBe(
      "upstream-77777",
    );
    expect(await page.locator(".row").count()).toBeLessThan(100);
    // How long the first screen took (printed, not asserted: tests do not pass or fail on a timer).
    await page.waitForFunction(
      () => performance.getEntriesByName("breakerbox:first-rows").length > 0,
    );
    const firstScreenMs = await page.evaluate(
      () => performance.getEntriesByName("breakerbox:first-rows")[0].startTime,
    );
    console.log(`dashboard: first screen of 100,000 breakers after ${firstScreenMs.toFixed(0)} ms`);
    expect(await page.locator("#totals").textContent()).toContain("100000 breakers");
    expect(errors.join("\n")).toBe("");
    await page.close();
    board.close();
  }, 60_000);
});

describe("dashboard options", () => {
  it("says what is wrong with them", () => {
    const box = new BreakerBox();
    expect(() => dashboard(5 as never)).toThrow(
      "dashboard: the first argument must be a BreakerBox or a record of them",
    );
    expect(() => dashboard({ a: {} as never })).toThrow('dashboard: "a" is not a BreakerBox');
    expect(() => dashboard(box, { path: "breakers" })).toThrow(
      `path must be a string starting with '/', got "breakers"`,
    );
    expect(() => dashboard(box, { intervalMs: 10 })).toThrow(
      "intervalMs must be an integer in [50, 60000], got 10",
    );
    expect(() => dashboard(box, { authorize: true as never })).toThrow(
      "authorize must be a function, got boolean",
    );
  });

  it("answers 404 outside its path and to unknown actions; reads no body it does not need", async () => {
    const board = dashboard(new BreakerBox(), { authorize: () => true });
    expect((await board.fetch(new Request("http://x/elsewhere"))).status).toBe(404);
    expect((await board.fetch(new Request("http://x/breakers/nothing"))).status).toBe(404);
    const html = await (await board.fetch(new Request("http://x/breakers"))).text();
    const token = /name="csrf" content="([0-9a-f]+)"/.exec(html)![1];
    const post = (body: string) =>
      board.fetch(
        new Request("http://x/breakers/action", {
          method: "POST",
          headers: { "x-csrf-token": token },
          body,
        }),
      );
    expect((await post("not json")).status).toBe(400);
    expect(
      (await post(JSON.stringify({ box: "default", key: "none", action: "reset" }))).status,
    ).toBe(404);
    board.close();
  });
});
