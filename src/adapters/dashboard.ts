// breakerbox/dashboard: a live page of a gateway's breakers, served by the gateway itself.
//
// `dashboard(boxes, options)` returns handlers for node:http/Express (`node`) and for fetch-style
// servers (`fetch`). Under `path` they serve one self-contained page (its script and style from
// the same origin: it renders under a strict Content-Security-Policy, which the page is sent
// with), a Server-Sent Events stream, and, only when `authorize` is given and says yes, control
// actions (POSTs carrying the page's CSRF token). The stream is fed by one sweep per interval per
// box (`box.watchStats()`: only the breakers whose figures moved are sent); nothing runs while no
// page is connected.

import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BreakerBox, KeyedStats } from "../facade/box.js";
import { APP_CSS, APP_JS, ICON_SVG, page } from "./dashboard-page.js";

export interface DashboardOptions {
  /** Where the dashboard lives. Default '/breakers'. */
  path?: string;
  /** How often changed breakers are sent, ms. Default 1000. */
  intervalMs?: number;
  /**
   * Whether a request may act (force open, force close, reset, isolate, release). Without it the
   * page is read-only and the action endpoint answers 403.
   */
  authorize?: (request: IncomingMessage | Request) => boolean | Promise<boolean>;
  /** The page's title. Default 'breakerbox'. */
  title?: string;
}

export interface Dashboard {
  /** node:http / Connect / Express: `(req, res, next?)`; calls `next()` for other paths. */
  node(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** fetch-style servers (Hono, Deno, Bun, workers): a Response, or 404 for other paths. */
  fetch(request: Request): Promise<Response>;
  /** Ends every stream and stops the sweeps. */
  close(): void;
}

/** The page's files, by their path under the dashboard's: content type and body. */
const ASSETS: Record<string, readonly [string, string]> = {
  "/app.js": ["text/javascript; charset=utf-8", APP_JS],
  "/app.css": ["text/css; charset=utf-8", APP_CSS],
  "/icon.svg": ["image/svg+xml", ICON_SVG],
};

const ACTIONS = new Set(["force-open", "force-close", "reset", "isolate", "release"]);
/** Security headers of every answer; the page's own CSP forbids anything not from this origin. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A connected page's stream. */
interface Client {
  send(text: string): void;
  end(): void;
}

/** One row as sent: [box, key, state, requests, successes, failures, drops, dropRatio, changedAt, reasons]. */
type Row = [
  string,
  string,
  string,
  number,
  number,
  number,
  number,
  number,
  number | null,
  string[],
];

const rowOf = (box: string, key: string, s: Omit<KeyedStats, "key">): Row => [
  box,
  key,
  s.state,
  s.requests,
  s.successes,
  s.failures,
  s.drops,
  Math.round(s.dropRatio * 1000) / 1000,
  s.changedAt ?? null,
  s.reasons,
];

export function dashboard(
  boxes: BreakerBox | Record<string, BreakerBox>,
  options: DashboardOptions = {},
): Dashboard {
  const named = checkBoxes(boxes);
  const given = options.path ?? "/breakers";
  if (typeof given !== "string" || !given.startsWith("/"))
    throw new TypeError(`path must be a string starting with '/', got ${JSON.stringify(given)}`);
  const path = given.replace(/\/+$/, "");
  const intervalMs = options.intervalMs ?? 1000;
  if (!(Number.isInteger(intervalMs) && intervalMs >= 50 && intervalMs <= 60_000))
    throw new RangeError(`intervalMs must be an integer in [50, 60000], got ${String(intervalMs)}`);
  const authorize = options.authorize;
  if (authorize !== undefined && typeof authorize !== "function")
    throw new TypeError(`authorize must be a function, got ${typeof authorize}`);
  const title = String(options.title ?? "breakerbox");
  const tokens = new Set<string>(); // CSRF tokens of the pages served, the last 1000
  const isolations = new Map<string, { release(): void }>();
  const clients = new Set<Client>();
  const watchers = named.map(([name, box]) => ({ name, box, watch: box.watchStats() }));
  let timer: ReturnType<typeof setInterval> | undefined;

  const broadcast = (event: unknown) => {
    const text = `data: ${JSON.stringify(event)}\n\n`;
    for (const client of clients) client.send(text);
  };
  const tick = () => {
    for (const { name, watch } of watchers) {
      const rows: Row[] = [];
      watch.poll((key, stats) => rows.push(rowOf(name, key, stats)));
      if (rows.length > 0) broadcast({ type: "rows", rows });
    }
  };
  const connect = (client: Client) => {
    // The page's first screen: every breaker now, from a sweep of its own.
    const rows: Row[] = [];
    for (const [name, box] of named) box.forEachStats((key, s) => rows.push(rowOf(name, key, s)));
    client.send(
      `data: ${JSON.stringify({ type: "hello", boxes: named.map(([name]) => name), rows })}\n\n`,
    );
    clients.add(client);
    if (timer === undefined) {
      for (const { watch } of watchers) watch.poll(() => {}); // from now on, changes only
      timer = setInterval(tick, intervalMs);
      (timer as { unref?: () => void }).unref?.();
    }
  };
  const disconnect = (client: Client) => {
    clients.delete(client);
    if (clients.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  /** Runs one action; the answer's status and text. */
  const act = async (
    request: IncomingMessage | Request,
    token: string | null,
    body: string,
  ): Promise<[number, string]> => {
    if (authorize === undefined) return [403, "read-only: the dashboard was given no authorize"];
    if (token === null || !tokens.has(token)) return [403, "missing or unknown CSRF token"];
    let allowed = false;
    try {
      allowed = (await authorize(request)) === true;
    } catch {
      allowed = false;
    }
    if (!allowed) return [403, "not authorized"];
    let parsed: { box?: unknown; key?: unknown; action?: unknown };
    try {
      parsed = JSON.parse(body);
    } catch {
      return [400, "the body must be JSON: { box, key, action }"];
    }
    const { box: boxName, key, action } = parsed;
    const box = named.find(([name]) => name === boxName)?.[1];
    if (box === undefined || typeof key !== "string" || !box.has(key))
      return [404, "no such breaker"];
    if (typeof action !== "string" || !ACTIONS.has(action)) return [400, "unknown action"];
    const breaker = box.get(key);
    const id = `${boxName}\u0000${key}`;
    try {
      if (action === "reset") breaker.reset();
      else if (action === "force-open") breaker.forceOpen();
      else if (action === "force-close") breaker.forceClose();
      else if (action === "isolate") {
        if (!isolations.has(id)) isolations.set(id, breaker.isolate());
      } else {
        isolations.get(id)?.release();
        isolations.delete(id);
      }
    } catch (error) {
      return [409, error instanceof Error ? error.message : String(error)];
    }
    broadcast({ type: "action", box: boxName, key, action, at: Date.now() });
    tick(); // the change shows at once
    return [200, "ok"];
  };

  /** The page, with a fresh CSRF token. */
  const html = () => {
    const token = randomBytes(16).toString("hex");
    tokens.add(token);
    if (tokens.size > 1000) tokens.delete(tokens.values().next().value as string);
    return page({ title, base: path, token, writable: authorize !== undefined });
  };
  const headers = (type: string) => ({
    "content-type": type,
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  });

  /** The part of `pathname` under the dashboard's path ('/' for the page), or undefined. */
  const subPath = (pathname: string) =>
    pathname.startsWith(`${path}/`) || pathname === path
      ? pathname.slice(path.length) || "/"
      : undefined;
  /** A GET of the page or one of its files: its content type and body; undefined for others. */
  const file = (sub: string): readonly [type: string, body: string] | undefined =>
    sub === "/" ? ["text/html; charset=utf-8", html()] : ASSETS[sub];

  return {
    node(req, res, next) {
      const sub = subPath(new URL(req.url ?? "/", "http://localhost").pathname);
      if (sub === undefined) {
        if (next) next();
        else {
          res.writeHead(404).end();
        }
        return;
      }
      const found = req.method === "GET" ? file(sub) : undefined;
      if (found !== undefined) {
        res.writeHead(200, headers(found[0])).end(found[1]);
      } else if (req.method === "GET" && sub === "/events") {
        res.writeHead(200, { ...headers("text/event-stream"), connection: "keep-alive" });
        const client: Client = { send: (text) => res.write(text), end: () => res.end() };
        connect(client);
        req.once("close", () => disconnect(client));
      } else if (req.method === "POST" && sub === "/action") {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => {
          body += chunk;
          if (body.length > 10_000) req.destroy();
        });
        req.once("end", () => {
          const token = req.headers["x-csrf-token"];
          act(req, typeof token === "string" ? token : null, body).then(([status, text]) => {
            res.writeHead(status, headers("text/plain; charset=utf-8")).end(text);
          });
        });
      } else {
        res.writeHead(404, headers("text/plain; charset=utf-8")).end("not found");
      }
    },
    async fetch(request) {
      const sub = subPath(new URL(request.url).pathname);
      const answer = (status: number, body: BodyInit | null, type = "text/plain; charset=utf-8") =>
        new Response(body, { status, headers: headers(type) });
      if (sub === undefined) return new Response(null, { status: 404 });
      const found = request.method === "GET" ? file(sub) : undefined;
      if (found !== undefined) return answer(200, found[1], found[0]);
      if (request.method === "GET" && sub === "/events") {
        let client: Client | undefined;
        const encoder = new TextEncoder();
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            client = {
              send: (text) => controller.enqueue(encoder.encode(text)),
              end: () => controller.close(),
            };
            connect(client);
          },
          cancel() {
            if (client) disconnect(client);
          },
        });
        request.signal?.addEventListener("abort", () => client && disconnect(client));
        return answer(200, stream, "text/event-stream");
      }
      if (request.method === "POST" && sub === "/action") {
        const body = (await request.text()).slice(0, 10_000);
        const [status, text] = await act(request, request.headers.get("x-csrf-token"), body);
        return answer(status, text);
      }
      return answer(404, "not found");
    },
    close() {
      for (const client of [...clients]) {
        try {
          client.end();
        } catch {
          // already gone
        }
        disconnect(client);
      }
    },
  };
}

function checkBoxes(boxes: BreakerBox | Record<string, BreakerBox>): Array<[string, BreakerBox]> {
  const isBox = (value: unknown): value is BreakerBox =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as BreakerBox).watchStats === "function";
  if (isBox(boxes)) return [["default", boxes]];
  if (typeof boxes !== "object" || boxes === null)
    throw new TypeError("dashboard: the first argument must be a BreakerBox or a record of them");
  const entries = Object.entries(boxes);
  if (entries.length === 0) throw new TypeError("dashboard: no box given");
  for (const [name, box] of entries)
    if (!isBox(box)) throw new TypeError(`dashboard: ${JSON.stringify(name)} is not a BreakerBox`);
  return entries;
}
