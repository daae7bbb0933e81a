// breakerbox/http's fetch wrapper: one breaker per upstream for outgoing calls.

import type { BreakerBox } from "../facade/box.js";
import { type BreakerOpenError, isBreakerOpenError } from "../facade/errors.js";
import { defaultIsFailure, errorText, reasonOf } from "./http-common.js";

/** Whether an aborted signal's reason is a timeout (AbortSignal.timeout), not the caller's own abort. */
function isTimeout(signal: AbortSignal): boolean {
  try {
    return (signal.reason as { name?: unknown } | null)?.name === "TimeoutError";
  } catch {
    return false;
  }
}

/** Options of the `fetch` wrapper. */
export interface FetchOptions {
  /** The fetch to wrap. Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** The breaker key of an outgoing call. Default: the URL's origin (one breaker per upstream). */
  key?: (url: URL, init: RequestInit | undefined) => string;
  /** Whether a response status counts as a failure. Default: status ≥ 500. */
  isFailure?: (status: number) => boolean;
  /** Instead of throwing BreakerOpenError for a dropped call, answer with this. */
  fallback?: (url: URL, error: BreakerOpenError) => Response | Promise<Response>;
  /**
   * How long (ms) a call may take before it is aborted (AbortSignal.timeout, alongside the
   * caller's own signal) and counted as a failure. Default: none.
   */
  timeoutMs?: number;
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header.trim());
  if (header.trim() !== "" && Number.isFinite(seconds) && seconds >= 0) {
    return Math.min(seconds * 1000, Number.MAX_VALUE); // a breaker holds it to its maxOpenMs
  }
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Wraps `fetch` for outgoing calls: one breaker per upstream origin. Network errors and
 * timeouts, and responses the `isFailure` test flags (≥ 500), count as failures; a call the caller
 * aborted counts as neither. A 429 or 503 with `Retry-After` opens a three-state breaker for at
 * least that long (accelerated tripping); an adaptive one counts a failure. A dropped call rejects
 * with BreakerOpenError, or gets the `fallback` response.
 */
export function breakerFetch(box: BreakerBox, options: FetchOptions = {}): typeof fetch {
  const baseFetch = options.fetch ?? globalThis.fetch;
  if (typeof baseFetch !== "function")
    throw new TypeError("fetch must be a function (none is global here)");
  const isFailure = options.isFailure ?? defaultIsFailure;
  const keyOf = options.key ?? ((url: URL) => url.origin);
  const timeoutMs = options.timeoutMs;
  if (
    timeoutMs !== undefined &&
    !(typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs < Infinity)
  ) {
    throw new RangeError(`timeoutMs must be a finite number > 0, got ${String(timeoutMs)}`);
  }
  return (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = urlOf(input);
    const breaker = box.get(keyOf(url, init));
    const token = breaker.tryAcquire();
    if (token === 0) {
      const error = breaker.openError();
      if (options.fallback !== undefined) return options.fallback(url, error);
      throw error;
    }
    const callers = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const signal =
      timeout === undefined ? callers : callers ? AbortSignal.any([callers, timeout]) : timeout;
    let response: Response;
    try {
      response = await baseFetch(input, signal === callers ? init : { ...init, signal });
    } catch (error) {
      // The caller's own abort counts as neither; a timeout (AbortSignal.timeout) is a failure.
      if (signal?.aborted === true && !isTimeout(signal) && !isBreakerOpenError(error)) {
        breaker.exclude(token);
      } else breaker.reject(token, errorText(error));
      throw error;
    }
    const status = response.status;
    let failed: boolean;
    try {
      failed = isFailure(status);
    } catch (error) {
      breaker.reject(token, errorText(error)); // a throwing isFailure still settles the call
      throw error;
    }
    const wait =
      status === 429 || status === 503
        ? retryAfterMs(response.headers.get("retry-after"))
        : undefined;
    if (wait !== undefined && breaker.policy === "three-state") {
      breaker.reject(token, reasonOf(status), wait);
    } else if (wait !== undefined || failed) breaker.reject(token, reasonOf(status));
    else breaker.accept(token);
    return response;
  }) as typeof fetch;
}

/** The URL of a fetch's input; a TypeError saying what was wrong with it when it is not one. */
function urlOf(input: RequestInfo | URL): URL {
  const text = input instanceof Request ? input.url : String(input);
  try {
    return new URL(text);
  } catch {
    throw new TypeError(
      `breakerFetch needs an absolute URL (the breaker is keyed by its origin), got ${JSON.stringify(text)}`,
    );
  }
}
