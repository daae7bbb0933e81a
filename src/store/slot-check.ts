// Checks a snapshot's slot bytes against the layout before they go into a box: codes in range,
// ring offsets inside their window, sums that match what they sum, times that are numbers. A slot
// that fails is refused whole, so a corrupted or forged snapshot can neither write outside its
// slot (an offset past the ring) nor put a breaker in a state no call could reach.

import {
  ADAPTIVE_HEADER_SIZE,
  BUCKET_DROP,
  BUCKET_FAILURE,
  BUCKET_SIZE,
  BUCKET_SUCCESS,
  CALL_FAILURE,
  CALL_SLOW,
  FLAG_LAST_PASS,
  FLAG_PASS,
  FLAG_PASS_ANY_TIME,
  FLAG_SHEDDING,
  FLAG_THREE_STATE,
  MODE_METRICS_ONLY,
  SLOT_ACCEPTS,
  SLOT_FAILING,
  SLOT_FLAGS,
  SLOT_LAST_PASS,
  SLOT_OFFSET,
  SLOT_RNG,
  SLOT_TOTAL,
  SLOT_WORKING,
  STATE_HALF_OPEN,
  THREE_STATE_HEADER_SIZE,
  TS_BUCKET_FAILURES,
  TS_BUCKET_REQUESTS,
  TS_BUCKET_SIZE,
  TS_BUCKET_SLOW,
  TS_CHANGED_AT,
  TS_COUNT_FAILURES,
  TS_COUNT_FILLED,
  TS_COUNT_HEADER_SIZE,
  TS_COUNT_SLOW,
  TS_IN_FLIGHT,
  TS_MODE,
  TS_OFFSET,
  TS_OPEN_UNTIL,
  TS_STATE,
  WINDOW_COUNT,
  WINDOW_TIME,
} from "../core/layout.js";
import type { AdaptivePolicy, Policy, ThreeStatePolicy } from "../core/types.js";

const U32_MAX = 0xffffffff;

/** The field that keeps `bytes` from being a slot of `policy` (its name), or undefined. */
export function slotProblem(bytes: Uint8Array, policy: Policy): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return policy.kind === "adaptive"
    ? adaptiveProblem(view, policy)
    : threeStateProblem(view, policy);
}

function adaptiveProblem(view: DataView, policy: AdaptivePolicy): string | undefined {
  const u8 = (at: number) => view.getUint8(at);
  const u32 = (at: number) => view.getUint32(at, true);
  const flags = u8(SLOT_FLAGS);
  if ((flags & ~(FLAG_PASS | FLAG_LAST_PASS | FLAG_SHEDDING)) !== 0) return "flags";
  if (u32(SLOT_RNG) === 0) return "random state";
  const buckets = policy.buckets;
  const offset = u8(SLOT_OFFSET);
  if (offset >= buckets) return "offset";
  if (u8(SLOT_WORKING) > buckets || u8(SLOT_FAILING) > buckets) return "runs";
  if (!Number.isFinite(view.getFloat64(SLOT_LAST_PASS, true))) return "last pass";
  // The sums the window keeps must be those of its buckets (saturating, as the core adds them).
  let total = 0;
  let accepts = 0;
  for (let i = 0; i < buckets; i++) {
    const bucket = ADAPTIVE_HEADER_SIZE + i * BUCKET_SIZE;
    const success = u32(bucket + BUCKET_SUCCESS);
    accepts = Math.min(U32_MAX, accepts + success);
    total = Math.min(
      U32_MAX,
      total + success + u32(bucket + BUCKET_FAILURE) + u32(bucket + BUCKET_DROP),
    );
  }
  if (u32(SLOT_TOTAL) !== total || u32(SLOT_ACCEPTS) !== accepts) {
    return "sums";
  }
  return undefined;
}

function threeStateProblem(view: DataView, policy: ThreeStatePolicy): string | undefined {
  const u8 = (at: number) => view.getUint8(at);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const flags = u8(SLOT_FLAGS);
  if (
    (flags & FLAG_THREE_STATE) === 0 ||
    (flags & ~(FLAG_PASS | FLAG_PASS_ANY_TIME | FLAG_THREE_STATE)) !== 0
  ) {
    return "flags";
  }
  const state = u8(TS_STATE);
  if (state > STATE_HALF_OPEN) return "state";
  const mode = u8(TS_MODE);
  if (mode > MODE_METRICS_ONLY) return "mode";
  const inFlight = u16(TS_IN_FLIGHT);
  if (inFlight > (state === STATE_HALF_OPEN ? policy.halfOpenMaxCalls : 0)) {
    return "probes in flight";
  }
  if (
    !(view.getFloat64(TS_OPEN_UNTIL, true) > Number.NEGATIVE_INFINITY) || // Infinity: a probe deadline
    !Number.isFinite(view.getFloat64(TS_CHANGED_AT, true))
  ) {
    return "times";
  }
  const offset = u16(TS_OFFSET);
  const ring = THREE_STATE_HEADER_SIZE;
  if (policy.window === WINDOW_TIME) {
    if (offset >= policy.buckets) return "offset";
    for (let i = 0; i < policy.buckets; i++) {
      const bucket = ring + i * TS_BUCKET_SIZE;
      const requests = u32(bucket + TS_BUCKET_REQUESTS);
      if (u32(bucket + TS_BUCKET_FAILURES) > requests || u32(bucket + TS_BUCKET_SLOW) > requests) {
        return "bucket counts";
      }
    }
  } else if (policy.window === WINDOW_COUNT) {
    const size = policy.windowCalls;
    const filled = u32(ring + TS_COUNT_FILLED);
    if (filled > size || offset >= size || (filled < size && offset !== filled)) {
      return "call window";
    }
    let failures = 0;
    let slow = 0;
    for (let i = 0; i < filled; i++) {
      const call = u8(ring + TS_COUNT_HEADER_SIZE + i);
      if ((call & ~(CALL_FAILURE | CALL_SLOW)) !== 0) return "calls";
      if ((call & CALL_FAILURE) !== 0) failures++;
      if ((call & CALL_SLOW) !== 0) slow++;
    }
    if (u32(ring + TS_COUNT_FAILURES) !== failures || u32(ring + TS_COUNT_SLOW) !== slow) {
      return "sums";
    }
  } else if (offset !== 0) {
    return "offset";
  }
  return undefined;
}
