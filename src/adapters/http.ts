// breakerbox/http: the breaker in front of HTTP, both sides. Server middleware for node:http,
// Connect and Express, a Fastify plugin, a Request/Response middleware (Hono and the like), and a
// `fetch` wrapper for outgoing calls. go-zero's rest/handler/breakerhandler.go is the model: one
// breaker per route named `METHOD://pattern`, a dropped request answered 503 with no body and no
// handler run, a response ≥ 500 counted as a failure ("<code> <status text>"), any other as a
// success. None of the frameworks is imported: they stay optional peer dependencies.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { BreakerBox } from "../facade/box.js";
import type { Breaker } from "../facade/breaker.js";
import { defaultIsFailure, errorText, reasonOf } from "./http-common.js";

/** What the server middlewares share. `Req` is the framework's request. */
export interface ServerOptions<Req> {
  /**
   * The breaker key of a request. Default: `METHOD://pattern` with the route pattern the framework
   * matched (`GET:///users/:id`); where it knows none, `METHOD://*`. Never the raw URL: a client
   * sending random paths must not be able to create breakers at will (and `maxKeys` bounds the box
   * whatever the key function does).
   */
  key?: (request: Req) => string;
  /** Whether a response status counts as a failure. Default: status ≥ 500. */
  isFailure?: (status: number) => boolean;
  /** Requests the breaker leaves alone (health checks, say). Default: none. */
  exclude?: (request: Req) => boolean;
  /** Called for each request the breaker rejects, e.g. to count drops (go-zero's metrics.AddDrop). */
  onReject?: (request: Req, key: string) => void;
}

function check<Req>(box: BreakerBox, options: ServerOptions<Req>): void {
  if (typeof box !== "object" || box === null || typeof (box as BreakerBox).get !== "function") {
    throw new TypeError("the first argument must be a BreakerBox");
  }
  for (const name of ["key", "isFailure", "exclude", "onReject"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "function")
      throw new TypeError(`${name} must be a function, got ${typeof value}`);
  }
}

/** An admitted server call: its breaker and permit. */
interface Call {
  breaker: Breaker;
  token: number;
}

/**
 * Asks the request's breaker (go-zero's Allow) and returns the call, or undefined when the breaker
 * rejects it — after telling `onReject`. The caller answers 503 then.
 */
function admit<Req>(
  box: BreakerBox,
  request: Req,
  keyOf: (request: Req) => string,
  options: ServerOptions<Req>,
): Call | undefined {
  const key = keyOf(request);
  const breaker = box.get(key);
  const token = breaker.tryAcquire();
  if (token !== 0) return { breaker, token };
  options.onReject?.(request, key);
  return undefined;
}

/** Settles a server call by its response status. */
function settle(
  breaker: Breaker,
  token: number,
  status: number,
  isFailure: (status: number) => boolean,
): void {
  if (isFailure(status)) breaker.reject(token, reasonOf(status));
  else breaker.accept(token);
}

type NodeRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };

/**
 * Middleware `(req, res, next)` for node:http, Connect and Express. With Express, put it on a route
 * (`app.get('/users/:id', breaker, handler)`) and the key is that route's pattern; as `app.use`
 * middleware, or on plain node:http, Express has matched no route yet and the key is `METHOD://*`
 * unless `key` says otherwise.
 */
export function nodeMiddleware(box: BreakerBox, options: ServerOptions<NodeRequest> = {}) {
  check(box, options);
  const isFailure = options.isFailure ?? defaultIsFailure;
  const keyOf =
    options.key ??
    ((req: NodeRequest) => {
      const pattern = req.route?.path;
      return `${req.method}://${typeof pattern === "string" ? (req.baseUrl ?? "") + pattern : "*"}`;
    });
  return (req: NodeRequest, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (options.exclude?.(req)) {
      next();
      return;
    }
    const call = admit(box, req, keyOf, options);
    if (call === undefined) {
      res.statusCode = 503;
      res.end();
      return;
    }
    const { breaker, token } = call;
    let done = false;
    res.once("finish", () => {
      done = true;
      settle(breaker, token, res.statusCode, isFailure);
    });
    res.once("close", () => {
      if (!done) breaker.exclude(token); // the client went away: no verdict on the backend
    });
    next();
  };
}

interface FastifyLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
}

interface FastifyRequestLike {
  method: string;
  routeOptions?: { url?: string };
}

interface FastifyReplyLike {
  statusCode: number;
  code(status: number): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/**
 * A Fastify plugin: `app.register(fastifyBreaker, { box })`. It hooks every route of the
 * instance it is registered on (and is not encapsulated, like fastify-plugin); the key is the
 * matched route pattern (`GET:///users/:id`), `METHOD://*` for requests no route matched.
 */
export function fastifyBreaker(
  fastify: FastifyLike,
  options: ServerOptions<FastifyRequestLike> & { box: BreakerBox },
  done: (error?: Error) => void,
): void {
  try {
    const { box } = options;
    check(box, options);
    const isFailure = options.isFailure ?? defaultIsFailure;
    const keyOf =
      options.key ??
      ((request: FastifyRequestLike) => `${request.method}://${request.routeOptions?.url ?? "*"}`);
    const calls = new WeakMap<object, Call>();
    fastify.addHook("onRequest", ((
      request: FastifyRequestLike,
      reply: FastifyReplyLike,
      next: () => void,
    ) => {
      if (options.exclude?.(request)) return next();
      const call = admit(box, request, keyOf, options);
      if (call === undefined) {
        reply.code(503).send();
        return;
      }
      calls.set(request, call);
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
        settle(call.breaker, call.token, reply.statusCode, isFailure);
      }
      next();
    }) as never);
    fastify.addHook("onRequestAbort", ((request: FastifyRequestLike, next: () => void) => {
      const call = calls.get(request);
      if (call !== undefined) {
        calls.delete(request);
        call.breaker.exclude(call.token);
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

/**
 * A Request/Response middleware `(request, next) => Response`, for servers built on the fetch API.
 * Without a `key` option every request of a method shares `METHOD://*`: a plain Request carries no
 * route pattern (the Hono middleware below knows it).
 */
export function fetchMiddleware(box: BreakerBox, options: ServerOptions<Request> = {}) {
  check(box, options);
  const isFailure = options.isFailure ?? defaultIsFailure;
  const keyOf = options.key ?? ((request: Request) => `${request.method}://*`);
  return async (request: Request, next: () => Promise<Response>): Promise<Response> => {
    if (options.exclude?.(request)) return next();
    const call = admit(box, request, keyOf, options);
    if (call === undefined) return new Response(null, { status: 503 });
    const { breaker, token } = call;
    let response: Response;
    try {
      response = await next();
    } catch (error) {
      breaker.reject(token, errorText(error));
      throw error;
    }
    const status = (response as { status?: unknown } | null | undefined)?.status;
    if (typeof status !== "number") {
      breaker.reject(token, "next() returned no Response");
      throw new TypeError(
        `fetchMiddleware: next() must resolve to a Response, got ${typeof response}`,
      );
    }
    settle(breaker, token, status, isFailure);
    return response;
  };
}

interface HonoContextLike {
  req: { raw: Request; method: string; matchedRoutes?: Array<{ method: string; path: string }> };
  res: Response;
  body(data: null, status: number): Response;
}

/** Hono middleware: `app.use(honoBreaker(box))`. The key is the matched route (`GET:///users/:id`). */
export function honoBreaker(box: BreakerBox, options: ServerOptions<HonoContextLike> = {}) {
  check(box, options);
  const isFailure = options.isFailure ?? defaultIsFailure;
  const keyOf =
    options.key ??
    ((c: HonoContextLike) => {
      const routes = c.req.matchedRoutes ?? [];
      let pattern = "*";
      for (const route of routes) if (route.method !== "ALL") pattern = route.path;
      return `${c.req.method}://${pattern}`;
    });
  // biome-ignore lint/suspicious/noConfusingVoidType: Hono's middleware returns a Response or nothing
  return async (c: HonoContextLike, next: () => Promise<void>): Promise<Response | void> => {
    if (options.exclude?.(c)) return next();
    const call = admit(box, c, keyOf, options);
    if (call === undefined) return c.body(null, 503);
    const { breaker, token } = call;
    try {
      await next();
    } catch (error) {
      breaker.reject(token, errorText(error));
      throw error;
    }
    settle(breaker, token, c.res.status, isFailure);
  };
}

export { breakerFetch, type FetchOptions, retryAfterMs } from "./http-fetch.js";
