// What the server middlewares share (./http.ts): options and their checks, route keys bounded in
// number, the refusal a breaker's 503 carries, and settling a call by its response, its timeout or
// the client going away.

import type { BreakerBox } from "../facade/box.js";
import type { Breaker } from "../facade/breaker.js";
import { isBreakerOpenError, isTooManyRequestsError } from "../facade/errors.js";
import { defaultIsFailure, reasonOf } from "./http-common.js";

/** What a refused request is told, for `refusal` to shape. */
export interface RefusalInfo {
  /** The key of the breaker that refused (the route's, or an upstream's for a gateway's own). */
  key: string | undefined;
  /** Ms until a call may pass again, as in `Retry-After`; undefined when no end is known. */
  retryAfterMs: number | undefined;
}

/** The body of a refusal: `'json'` (default), `'text'`, `'none'`, or your own. */
export type RefusalBody =
  | "json"
  | "text"
  | "none"
  | ((info: RefusalInfo) => { body: string; contentType: string });

/** What the server middlewares share. `Req` is the framework's request. */
export interface ServerOptions<Req> {
  /**
   * The breaker key of a request. Default: `METHOD://pattern` with the route pattern the framework
   * matched (`GET:///users/:id`); where it knows none, `METHOD://pathname` for the first
   * `maxRouteKeys` pathnames seen and `METHOD://*` for the rest (a client sending random paths
   * cannot create breakers at will; `maxKeys` bounds the box whatever the key function does).
   */
  key?: (request: Req) => string;
  /** Distinct pathnames keyed by the default key where no route pattern is known. Default 100. */
  maxRouteKeys?: number;
  /** Whether a response status counts as a failure. Default: status ≥ 500. */
  isFailure?: (status: number) => boolean;
  /** Requests the breaker leaves alone. Default: none. */
  exclude?: (request: Req) => boolean;
  /** Pathnames the breaker leaves alone, exactly (health checks, metrics). Default: none. */
  excludePaths?: readonly string[];
  /**
   * A request not answered within this many ms counts as a failure ("timeout"), whenever its
   * response ends or its client goes away. Default: the box's `timeoutMs`, else none.
   */
  timeoutMs?: number;
  /** The body of the 503 a refused request gets (it always carries `Retry-After` when known). */
  refusal?: RefusalBody;
  /** Called for each request the breaker rejects, e.g. to count drops (go-zero's metrics.AddDrop). */
  onReject?: (request: Req, key: string) => void;
}

/** Options checked, with their defaults. */
export interface Server<Req> {
  box: BreakerBox;
  keyOf: (request: Req) => string;
  isFailure: (status: number) => boolean;
  skip: (request: Req, path: () => string) => boolean;
  timeoutMs: number;
  /** Whether there is a timeout, so calls are timed. */
  timed: boolean;
  refusal: RefusalBody;
  onReject: ((request: Req, key: string) => void) | undefined;
}

const REFUSAL_BODIES = new Set(["json", "text", "none"]);

/** The `refusal` option, checked; 'json' when not given. */
export function checkRefusal(refusal: RefusalBody | undefined): RefusalBody {
  const body = refusal ?? "json";
  if (typeof body !== "function" && !REFUSAL_BODIES.has(body))
    throw new TypeError(
      `refusal must be 'json', 'text', 'none' or a function, got ${String(body)}`,
    );
  return body;
}

/**
 * Checks the options (a TypeError or RangeError naming the first wrong one). `patternOf` gives the
 * framework's matched route pattern (undefined when it knows none), `pathOf` the pathname.
 */
export function server<Req>(
  box: BreakerBox,
  options: ServerOptions<Req>,
  patternOf: (request: Req) => string | undefined,
  methodOf: (request: Req) => string,
  pathOf: (request: Req) => string,
): Server<Req> {
  if (typeof box !== "object" || box === null || typeof (box as BreakerBox).get !== "function") {
    throw new TypeError("the first argument must be a BreakerBox");
  }
  for (const name of ["key", "isFailure", "exclude", "onReject"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "function")
      throw new TypeError(`${name} must be a function, got ${typeof value}`);
  }
  const maxRouteKeys = options.maxRouteKeys ?? 100;
  if (!Number.isInteger(maxRouteKeys) || maxRouteKeys < 0)
    throw new RangeError(`maxRouteKeys must be an integer ≥ 0, got ${String(maxRouteKeys)}`);
  const timeoutMs = options.timeoutMs ?? box.timeoutMs ?? Number.POSITIVE_INFINITY;
  if (!(typeof timeoutMs === "number" && timeoutMs > 0))
    throw new RangeError(`timeoutMs must be a number > 0, got ${String(timeoutMs)}`);
  const refusal = checkRefusal(options.refusal);
  const paths = options.excludePaths ?? [];
  if (!Array.isArray(paths) || paths.some((path) => typeof path !== "string"))
    throw new TypeError("excludePaths must be an array of pathnames");
  const excluded = new Set(paths);
  const exclude = options.exclude;
  const seen = new Set<string>();
  const keyOf =
    options.key ??
    ((request: Req) => {
      const method = methodOf(request);
      const pattern = patternOf(request);
      if (pattern !== undefined) return `${method}://${pattern}`;
      const path = pathOf(request);
      if (seen.has(path)) return `${method}://${path}`;
      if (seen.size >= maxRouteKeys) return `${method}://*`;
      seen.add(path);
      return `${method}://${path}`;
    });
  return {
    box,
    keyOf,
    isFailure: options.isFailure ?? defaultIsFailure,
    skip: (request, path) =>
      (excluded.size !== 0 && excluded.has(path())) || (exclude?.(request) ?? false),
    timeoutMs,
    timed: timeoutMs !== Number.POSITIVE_INFINITY,
    refusal,
    onReject: options.onReject,
  };
}

/** An admitted server call: its breaker, permit and start. */
export interface Call {
  breaker: Breaker;
  token: number;
  start: number;
}

/** Asks the request's breaker; the call, or the breaker that refused it (after `onReject`). */
export function admit<Req>(s: Server<Req>, request: Req): Call | Breaker {
  const key = s.keyOf(request);
  const breaker = s.box.get(key);
  const token = breaker.tryAcquire();
  if (token !== 0) return { breaker, token, start: s.timed ? performance.now() : 0 };
  s.onReject?.(request, key);
  return breaker;
}

/** Settles a call whose response ended with `status`: late is a timeout, whatever the status. */
export function settleResponse<Req>(s: Server<Req>, call: Call, status: number): void {
  if (late(s, call)) timedOut(s, call);
  else if (s.isFailure(status)) call.breaker.reject(call.token, reasonOf(status));
  else call.breaker.accept(call.token);
}

/**
 * Settles a call the gateway answered itself because a breaker refused (ours or an upstream's), or
 * whose client went away: neither success nor failure, unless it was already late.
 */
export function settleNeither<Req>(s: Server<Req>, call: Call): void {
  if (late(s, call)) timedOut(s, call);
  else call.breaker.exclude(call.token);
}

/** Whether a call outlived the timeout (no clock is read without one). */
function late<Req>(s: Server<Req>, call: Call): boolean {
  return s.timed && performance.now() - call.start > s.timeoutMs;
}

function timedOut<Req>(s: Server<Req>, call: Call): void {
  call.breaker.reject(call.token, `the request was not answered within ${s.timeoutMs} ms`);
}

/** True for what a breaker throws when it refuses a call (from any copy of breakerbox). */
export function isRefusal(error: unknown): boolean {
  return isBreakerOpenError(error) || isTooManyRequestsError(error);
}

/** What a refusal by `breaker`, or a refusal error from any breaker, says. */
export function refusalInfo(from: Breaker | unknown): RefusalInfo {
  const source = from as { key?: unknown; retryAfterMs?: unknown } | null | undefined;
  const key = source?.key;
  const retryAfterMs = source?.retryAfterMs;
  return {
    key: typeof key === "string" ? key : undefined,
    retryAfterMs: typeof retryAfterMs === "number" ? retryAfterMs : undefined,
  };
}

/** The 503 of a refusal: its headers (`Retry-After` in whole seconds, rounded up) and body. */
export function refusalParts(
  s: Server<unknown> | { refusal: RefusalBody },
  info: RefusalInfo,
): { headers: Record<string, string>; body: string | null } {
  const headers: Record<string, string> = {};
  if (info.retryAfterMs !== undefined)
    headers["retry-after"] = String(Math.max(1, Math.ceil(info.retryAfterMs / 1000)));
  const refusal = s.refusal;
  if (refusal === "none") return { headers, body: null };
  if (refusal === "text") {
    headers["content-type"] = "text/plain; charset=utf-8";
    return { headers, body: "circuit breaker is open\n" };
  }
  if (refusal === "json") {
    headers["content-type"] = "application/json";
    const body = {
      error: "circuit breaker is open",
      key: info.key,
      retryAfterMs: info.retryAfterMs,
    };
    return { headers, body: JSON.stringify(body) };
  }
  const made = refusal(info);
  headers["content-type"] = made.contentType;
  return { headers, body: made.body };
}
