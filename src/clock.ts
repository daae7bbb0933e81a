// The default clock, amortised. Reading the time costs ~40 ns here, more than a breaker's own
// work, so under load it is read about once per millisecond and the reading is reused meanwhile.
//
// A reading stays valid until either (a) a one-shot 1 ms timer fires, which needs the event loop
// to turn, or (b) `stride` calls have used it, which bounds staleness inside a long synchronous
// burst where no timer can fire. The stride adapts: doubled when the budget runs out before a
// millisecond has passed, halved when the timer fires first. The timer is unref'd and re-armed
// only by a reading, so an idle process has no timer at all and is never kept alive by one.

const MIN_STRIDE = 16;
const MAX_STRIDE = 1 << 22;

let cached = 0;
let budget = 0;
let stride = MIN_STRIDE;
let armed = false;
let reads = 0;
let timer: { refresh(): unknown; unref?(): unknown } | undefined;

const wallNow: () => number = typeof performance === "object" && typeof performance.now === "function"
  ? () => performance.timeOrigin + performance.now()
  : () => Date.now();

function expire(): void {
  armed = false;
  budget = 0;
  if (stride > MIN_STRIDE) stride >>>= 1;
}

function arm(): void {
  armed = true;
  if (timer === undefined || typeof timer.refresh !== "function") {
    const handle = setTimeout(expire, 1) as unknown as { refresh(): unknown; unref?(): unknown };
    handle.unref?.();
    timer = handle;
  } else {
    timer.refresh(); // Node: re-arms the same Timeout object, no allocation
  }
}

function read(): number {
  const previous = cached;
  cached = wallNow();
  reads++;
  if (armed && cached - previous < 1 && stride < MAX_STRIDE) stride <<= 1;
  budget = stride;
  if (!armed) arm();
  return cached;
}

/** Milliseconds since the Unix epoch (fractional, monotonic within the process where available). */
export function coarseNow(): number {
  if (budget > 0) {
    budget--;
    return cached;
  }
  return read();
}

/** How many times the default clock has actually read the time (for `npm run bench`). */
export function clockReads(): number {
  return reads;
}
