// What the exporters share: one sweep per scrape, whatever number of instruments read it.

import type { BreakerBox, KeyedStats } from "../facade/box.js";

/** The breaker states as the exporters label them. */
export const STATES = [
  "closed",
  "open",
  "half-open",
  "forced-open",
  "disabled",
  "metrics-only",
  "isolated",
] as const;

/**
 * The box's stats for the current scrape: swept once on first use, and reused by every instrument
 * read in the same turn of the event loop (exporters read all their instruments synchronously).
 */
export function scrapeCache(box: BreakerBox): () => KeyedStats[] {
  let cached: KeyedStats[] | undefined;
  return () => {
    if (cached === undefined) {
      cached = box.stats();
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached;
  };
}
