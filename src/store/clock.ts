// The default clock, amortised. Reading the time costs ~40 ns here, more than a breaker's own
// work, so under load it is read about once per millisecond and the reading is reused meanwhile.
//
// A reading stays valid until either (a) a one-shot 1 ms timer fires, which needs the event loop
// to turn, or (b) `stride` calls have used it, which bounds staleness inside a long synchronous
// burst where no timer can fire. The stride adapts: doubled when the budget runs out before a
// millisecond has passed, halved when the timer fires first. The timer is unref'd and re-armed
// only by a reading, so an idle process has no timer at all and is never kept alive by one.
//
// The state lives in one object with small-integer fields (and the time in a Float64Array), not in
// module-level `let`s: V8 checks a `let` binding for its temporal dead zone on every access, which
// costs more than the arithmetic here; an object field of a stable shape costs a plain load.

const MIN_STRIDE = 16;
const MAX_STRIDE = 1 << 22;

const state = {
  /** Calls left on the current reading. */
  budget: 0,
  /** Number of the current reading, so callers can cache what they derive from it. */
  reading: 0,
  stride: MIN_STRIDE,
  armed: false,
};
const CACHED = 0; // time of the current reading, ms since the Unix epoch
const READS = 1; // readings taken since the process started
const times = new Float64Array(2);

const wallNow: () => number =
  typeof performance === "object" && typeof performance.now === "function"
    ? () => performance.timeOrigin + performance.now()
    : () => Date.now();

let timer: { refresh(): unknown; unref?(): unknown } | undefined;

function expire(): void {
  state.armed = false;
  state.budget = 0;
  if (state.stride > MIN_STRIDE) state.stride >>= 1;
}

function arm(): void {
  state.armed = true;
  if (timer === undefined || typeof timer.refresh !== "function") {
    const handle = setTimeout(expire, 1) as unknown as { refresh(): unknown; unref?(): unknown };
    handle.unref?.();
    timer = handle;
  } else {
    timer.refresh(); // Node: re-arms the same Timeout object, no allocation
  }
}

function read(): void {
  const previous = times[CACHED];
  const now = wallNow();
  if (now > previous) times[CACHED] = now; // never backwards, even if the wall clock is stepped
  state.reading = (state.reading + 1) & 0x3fffffff;
  times[READS]++;
  if (state.armed && now - previous < 1 && state.stride < MAX_STRIDE) state.stride <<= 1;
  state.budget = state.stride;
  if (!state.armed) arm();
}

/**
 * Uses up one call's share of the current reading and returns the reading's number (a small
 * integer). The hot path compares this number instead of the time itself: a time is a double,
 * and passing doubles between functions that V8 does not inline allocates.
 */
export function tick(): number {
  const budget = state.budget;
  if (budget > 0) state.budget = budget - 1;
  else read();
  return state.reading;
}

/** The time of the current reading, in ms since the Unix epoch. */
export function lastReading(): number {
  return times[CACHED];
}

/** Milliseconds since the Unix epoch (fractional, monotonic within the process where available). */
export function coarseNow(): number {
  tick();
  return times[CACHED];
}

/** How many times the default clock has actually read the time (see `npm run bench`). */
export function clockReads(): number {
  return times[READS];
}
