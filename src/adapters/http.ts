// breakerbox/http: the breaker in front of HTTP, both sides. Server middleware for node:http,
// Connect and Express, a Fastify plugin, a Request/Response middleware (Hono and the like), and a
// `fetch` wrapper for outgoing calls. go-zero's rest/handler/breakerhandler.go is the model: one
// breaker per route named `METHOD://pattern`, a dropped request answered 503 with no handler run
// (here with `Retry-After` and a small body), a response ≥ 500 counted as a failure
// ("<code> <status text>"), any other as a success. A 503 the gateway answers because one of its
// breakers refused (a BreakerOpenError from an upstream's breaker reaching the middleware or its
// error handler) counts as neither: it says nothing of this route's health. None of the frameworks
// is imported.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { BreakerBox } from "../facade/box.js";
import { errorText } from "./http-common.js";
import {
  admit,
  type Call,
  checkRefusal,
  isRefusal,
  type RefusalBody,
  type RefusalInfo,
  refusalInfo,
  refusalParts,
  type ServerOptions,
  server,
  settleNeither,
  settleResponse,
} from "./http-server.js";

export type { RefusalBody, RefusalInfo, ServerOptions };

/** The pathname of a request line's target ("/a/b?c" → "/a/b"). */
const pathnameOf = (url: string | undefined): string => {
  const target = url ?? "/";
  const query = target.indexOf("?");
  return query === -1 ? target : target.slice(0, query);
};

type NodeRequest = IncomingMessage & {
  route?: { path?: unknown };
  baseUrl?: string;
  originalUrl?: string;
};

/** Responses a breakerbox refusal answered: the server breaker counts them as neither. */
const refusedResponses = new WeakSet<object>();

/** Writes a refusal's 503 on a node:http response (unless it has begun), marked as one. */
function writeRefusal(
  res: ServerResponse,
  options: { refusal: RefusalBody },
  info: RefusalInfo,
): void {
  refusedResponses.add(res);
  if (res.headersSent) {
    res.end();
    return;
  }
  const { headers, body } = refusalParts(options, info);
  res.writeHead(503, headers);
  res.end(body ?? undefined);
}

/**
 * Middleware `(req, res, next)` for node:http, Connect and Express. With Express, put it on a route
 * (`app.get('/users/:id', breaker, handler)`) and the key is that route's pattern; as `app.use`
 * middleware, or on plain node:http, no route is matched yet and the key is `METHOD://pathname`
 * (bounded by `maxRouteKeys`) unless `key` says otherwise.
 */
export function nodeMiddleware(box: BreakerBox, options: ServerOptions<NodeRequest> = {}) {
  const s = server(
    box,
    options,
    (req) => {
      const pattern = req.route?.path;
      return typeof pattern === "string" ? (req.baseUrl ?? "") + pattern : undefined;
    },
    (req) => req.method ?? "GET",
    (req) => pathnameOf(req.originalUrl ?? req.url),
  );
  return (req: NodeRequest, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (s.skip(req, () => pathnameOf(req.originalUrl ?? req.url))) {
      next();
      return;
    }
    const call = admit(s, req);
    if (!("token" in call)) {
      writeRefusal(res, s, refusalInfo(call));
      return;
    }
    let done = false;
    res.once("finish", () => {
      done = true;
      if (refusedResponses.has(res)) settleNeither(s, call);
      else settleResponse(s, call, res.statusCode);
    });
    res.once("close", () => {
      if (!done) settleNeither(s, call); // the client went away: no verdict, unless already late
    });
    next();
  };
}

/**
 * Express error middleware `(error, req, res, next)`, last in the chain: a refusal from any
 * breaker (a BreakerOpenError or TooManyRequestsError, e.g. from `breakerFetch`) becomes
 * a 503 with `Retry-After` and the `refusal` body, which `nodeMiddleware` counts as neither
 * success nor failure; anything else goes on to the next error handler.
 */
export function refusalHandler(options: { refusal?: RefusalBody } = {}) {
  const s = { refusal: checkRefusal(options.refusal) };
  return (error: unknown, _req: unknown, res: ServerResponse, next: (e?: unknown) => void) => {
    if (!isRefusal(error)) {
      next(error);
      return;
    }
    writeRefusal(res, s, refusalInfo(error));
  };
}

interface FastifyLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
}

interface FastifyRequestLike {
  method: string;
  url: string;
  routeOptions?: { url?: string };
}

interface FastifyReplyLike {
  statusCode: number;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/**
 * A Fastify plugin: `app.register(fastifyBreaker, { box })`. It hooks every route of the
 * instance it is registered on (and is not encapsulated, like fastify-plugin); the key is the
 * matched route pattern (`GET:///users/:id`), `METHOD://*` for requests no route matched. A
 * refusal thrown by a handler is answered 503 by Fastify (the errors carry `statusCode`) with
 * `Retry-After`, and counts as neither.
 */
export function fastifyBreaker(
  fastify: FastifyLike,
  options: ServerOptions<FastifyRequestLike> & { box: BreakerBox },
  done: (error?: Error) => void,
): void {
  try {
    const { box } = options;
    const s = server(
      box,
      options,
      (request) => request.routeOptions?.url ?? "*",
      (request) => request.method,
      (request) => pathnameOf(request.url),
    );
    const calls = new WeakMap<object, Call>();
    const refused = new WeakSet<object>();
    const send = (reply: FastifyReplyLike, info: RefusalInfo) => {
      const { headers, body } = refusalParts(s, info);
      for (const [name, value] of Object.entries(headers)) reply.header(name, value);
      reply.code(503).send(body ?? undefined);
    };
    fastify.addHook("onRequest", ((
      request: FastifyRequestLike,
      reply: FastifyReplyLike,
      next: () => void,
    ) => {
      if (s.skip(request, () => pathnameOf(request.url))) return next();
      const call = admit(s, request);
      if (!("token" in call)) {
        send(reply, refusalInfo(call));
        return;
      }
      calls.set(request, call);
      next();
    }) as never);
    fastify.addHook("onError", ((
      request: FastifyRequestLike,
      reply: FastifyReplyLike,
      error: unknown,
      next: () => void,
    ) => {
      if (isRefusal(error)) {
        refused.add(request);
        const { headers } = refusalParts(s, refusalInfo(error));
        if (headers["retry-after"] !== undefined)
          reply.header("retry-after", headers["retry-after"]);
      }
      next();
    }) as never);
    fastify.addHook("onResponse", ((
      request: FastifyRequestLike,
      reply: FastifyReplyLike,
      next: () => void,
    ) => {
      const call = calls.get(request);
      if (call !== undefined) {
        calls.delete(request);
        if (refused.has(request)) settleNeither(s, call);
        else settleResponse(s, call, reply.statusCode);
      }
      next();
    }) as never);
    fastify.addHook("onRequestAbort", ((request: FastifyRequestLike, next: () => void) => {
      const call = calls.get(request);
      if (call !== undefined) {
        calls.delete(request);
        settleNeither(s, call);
      }
      next();
    }) as never);
    done();
  } catch (error) {
    done(error as Error);
  }
}
(fastifyBreaker as unknown as Record<symbol, unknown>)[Symbol.for("skip-override")] = true;
(fastifyBreaker as unknown as Record<symbol, unknown>)[Symbol.for("fastify.display-name")] =
  "breakerbox";

/** A refusal's 503 as a fetch Response, marked as one. */
function refusalResponse(options: { refusal: RefusalBody }, info: RefusalInfo): Response {
  const { headers, body } = refusalParts(options, info);
  const response = new Response(body, { status: 503, headers });
  refusedResponses.add(response);
  return response;
}

/**
 * A Request/Response middleware `(request, next) => Response`, for servers built on the fetch API.
 * A plain Request carries no route pattern: the key is `METHOD://pathname` (bounded by
 * `maxRouteKeys`) unless `key` says otherwise (the Hono middleware below knows the pattern). A
 * refusal thrown by `next()` becomes a 503 with `Retry-After` and counts as neither.
 */
export function fetchMiddleware(box: BreakerBox, options: ServerOptions<Request> = {}) {
  const s = server(
    box,
    options,
    () => undefined,
    (request) => request.method,
    (request) => new URL(request.url).pathname,
  );
  return async (request: Request, next: () => Promise<Response>): Promise<Response> => {
    if (s.skip(request, () => new URL(request.url).pathname)) return next();
    const call = admit(s, request);
    if (!("token" in call)) return refusalResponse(s, refusalInfo(call));
    let response: Response;
    try {
      response = await next();
    } catch (error) {
      if (isRefusal(error)) {
        settleNeither(s, call);
        return refusalResponse(s, refusalInfo(error));
      }
      call.breaker.reject(call.token, errorText(error));
      throw error;
    }
    const status = (response as { status?: unknown } | null | undefined)?.status;
    if (typeof status !== "number") {
      call.breaker.reject(call.token, "next() returned no Response");
      throw new TypeError(
        `fetchMiddleware: next() must resolve to a Response, got ${typeof response}`,
      );
    }
    if (refusedResponses.has(response)) settleNeither(s, call);
    else settleResponse(s, call, status);
    return response;
  };
}

interface HonoContextLike {
  req: {
    raw: Request;
    method: string;
    path: string;
    matchedRoutes?: Array<{ method: string; path: string }>;
  };
  res: Response;
  error?: unknown;
}

/**
 * Hono middleware: `app.use(honoBreaker(box))`. The key is the matched route (`GET:///users/:id`).
 * A refusal thrown by a handler (Hono hands it to the middleware as `c.error`) becomes a 503 with
 * `Retry-After` and counts as neither.
 */
export function honoBreaker(box: BreakerBox, options: ServerOptions<HonoContextLike> = {}) {
  const s = server(
    box,
    options,
    (c) => {
      let pattern: string | undefined;
      for (const route of c.req.matchedRoutes ?? [])
        if (route.method !== "ALL") pattern = route.path;
      return pattern;
    },
    (c) => c.req.method,
    (c) => c.req.path,
  );
  // biome-ignore lint/suspicious/noConfusingVoidType: Hono's middleware returns a Response or nothing
  return async (c: HonoContextLike, next: () => Promise<void>): Promise<Response | void> => {
    if (s.skip(c, () => c.req.path)) return next();
    const call = admit(s, c);
    if (!("token" in call)) return refusalResponse(s, refusalInfo(call));
    try {
      await next();
    } catch (error) {
      if (!isRefusal(error)) {
        call.breaker.reject(call.token, errorText(error));
        throw error;
      }
      c.error = error;
    }
    if (isRefusal(c.error) || refusedResponses.has(c.res)) {
      settleNeither(s, call);
      if (!refusedResponses.has(c.res)) c.res = refusalResponse(s, refusalInfo(c.error));
      return;
    }
    settleResponse(s, call, c.res.status);
  };
}

export { breakerFetch, type FetchOptions, retryAfterMs } from "./http-fetch.js";
