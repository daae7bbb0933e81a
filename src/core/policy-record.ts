// The policy-record codec: a checked policy into its 128-byte record and back. Every store (a box
// of one thread, a shared box) and every snapshot goes through these functions, and a policy is
// identified by its record's bytes (`recordKey`), so two policies are the same exactly when the
// core would run them alike.

import {
  ADAPTIVE_HEADER_SIZE,
  BUCKET_SIZE,
  KIND_ADAPTIVE,
  KIND_THREE_STATE,
  POLICY_BACKOFF,
  POLICY_BUCKET_MS,
  POLICY_BUCKETS,
  POLICY_EPOCH,
  POLICY_FORCE_PASS_MS,
  POLICY_HALF_OPEN_MAX_CALLS,
  POLICY_HALF_OPEN_SUCCESSES,
  POLICY_K,
  POLICY_KIND,
  POLICY_MAX_OPEN_MS,
  POLICY_MIN_K,
  POLICY_MIN_REQUESTS,
  POLICY_OPEN_MS,
  POLICY_OUTAGE_BUCKETS,
  POLICY_PROBE_TIMEOUT_MS,
  POLICY_PROTECTION,
  POLICY_RECORD_SIZE,
  POLICY_RECOVERY,
  POLICY_SLOT_SIZE,
  POLICY_SLOW_CALL_MS,
  POLICY_SLOW_THRESHOLD,
  POLICY_TABLE_OFFSET,
  POLICY_THRESHOLD,
  POLICY_TRIP,
  POLICY_WINDOW,
  POLICY_WINDOW_CALLS,
  SLOT_ALIGN,
  THREE_STATE_HEADER_SIZE,
  TS_BUCKET_SIZE,
  TS_COUNT_HEADER_SIZE,
  WINDOW_COUNT,
  WINDOW_TIME,
} from "./layout.js";
import type { Policy } from "./types.js";
import { recordAt, type Views, view } from "./views.js";

/** Bytes of one slot under `policy`, with `lockBytes` of lock word, rounded up to SLOT_ALIGN. */
export function slotBytes(policy: Policy, lockBytes: number): number {
  const window =
    policy.kind === "adaptive"
      ? ADAPTIVE_HEADER_SIZE + policy.buckets * BUCKET_SIZE
      : THREE_STATE_HEADER_SIZE +
        (policy.window === WINDOW_TIME
          ? policy.buckets * TS_BUCKET_SIZE
          : policy.window === WINDOW_COUNT
            ? TS_COUNT_HEADER_SIZE + policy.windowCalls
            : 0);
  return Math.ceil((window + lockBytes) / SLOT_ALIGN) * SLOT_ALIGN;
}

/** Writes `policy` as record `index`, whose buckets start at `epoch`; every byte of the record. */
export function writePolicy(
  m: Views,
  index: number,
  policy: Policy,
  lockBytes: number,
  epoch: number,
): void {
  const record = recordAt(index);
  const f64 = (offset: number, value: number) => {
    m.f64[(record + offset) >>> 3] = value;
  };
  const u16 = (offset: number, value: number) => {
    m.u16[(record + offset) >>> 1] = value;
  };
  m.u8.fill(0, record, record + POLICY_RECORD_SIZE);
  if (policy.kind === "adaptive") {
    m.u8[record + POLICY_KIND] = KIND_ADAPTIVE;
    f64(POLICY_K, policy.k);
    f64(POLICY_MIN_K, policy.minK);
    f64(POLICY_PROTECTION, policy.protection);
    f64(POLICY_FORCE_PASS_MS, policy.forcePassMs);
    m.u8[record + POLICY_RECOVERY] = policy.recovery;
    m.u8[record + POLICY_OUTAGE_BUCKETS] = policy.outageBuckets;
  } else {
    m.u8[record + POLICY_KIND] = KIND_THREE_STATE;
    m.u8[record + POLICY_TRIP] = policy.trip;
    m.u8[record + POLICY_WINDOW] = policy.window;
    u16(POLICY_HALF_OPEN_MAX_CALLS, policy.halfOpenMaxCalls);
    f64(POLICY_THRESHOLD, policy.threshold);
    f64(POLICY_MIN_REQUESTS, policy.minRequests);
    f64(POLICY_SLOW_CALL_MS, policy.slowCallMs);
    f64(POLICY_OPEN_MS, policy.openMs);
    f64(POLICY_MAX_OPEN_MS, policy.maxOpenMs);
    f64(POLICY_BACKOFF, policy.backoff);
    u16(POLICY_HALF_OPEN_SUCCESSES, policy.halfOpenSuccesses);
    u16(POLICY_WINDOW_CALLS, policy.windowCalls);
    f64(POLICY_PROBE_TIMEOUT_MS, policy.probeTimeoutMs);
    f64(POLICY_SLOW_THRESHOLD, policy.slowThreshold);
  }
  m.u8[record + POLICY_BUCKETS] = policy.buckets;
  u16(POLICY_SLOT_SIZE, slotBytes(policy, lockBytes));
  f64(POLICY_EPOCH, epoch);
  f64(POLICY_BUCKET_MS, policy.bucketMs);
}

/** The policy record `index` holds, or undefined when it holds none (an unused or special record). */
export function readPolicy(m: Views, index: number): Policy | undefined {
  const record = recordAt(index);
  const u8 = (offset: number) => m.u8[record + offset];
  const u16 = (offset: number) => m.u16[(record + offset) >>> 1];
  const f64 = (offset: number) => m.f64[(record + offset) >>> 3];
  const kind = u8(POLICY_KIND);
  if (kind === KIND_ADAPTIVE) {
    return {
      kind: "adaptive",
      buckets: u8(POLICY_BUCKETS),
      bucketMs: f64(POLICY_BUCKET_MS),
      k: f64(POLICY_K),
      minK: f64(POLICY_MIN_K),
      protection: f64(POLICY_PROTECTION),
      forcePassMs: f64(POLICY_FORCE_PASS_MS),
      recovery: u8(POLICY_RECOVERY),
      outageBuckets: u8(POLICY_OUTAGE_BUCKETS),
    };
  }
  if (kind === KIND_THREE_STATE) {
    return {
      kind: "three-state",
      trip: u8(POLICY_TRIP),
      threshold: f64(POLICY_THRESHOLD),
      slowThreshold: f64(POLICY_SLOW_THRESHOLD),
      minRequests: f64(POLICY_MIN_REQUESTS),
      slowCallMs: f64(POLICY_SLOW_CALL_MS),
      window: u8(POLICY_WINDOW),
      buckets: u8(POLICY_BUCKETS),
      bucketMs: f64(POLICY_BUCKET_MS),
      windowCalls: u16(POLICY_WINDOW_CALLS),
      openMs: f64(POLICY_OPEN_MS),
      maxOpenMs: f64(POLICY_MAX_OPEN_MS),
      backoff: f64(POLICY_BACKOFF),
      halfOpenMaxCalls: u16(POLICY_HALF_OPEN_MAX_CALLS),
      halfOpenSuccesses: u16(POLICY_HALF_OPEN_SUCCESSES),
      probeTimeoutMs: f64(POLICY_PROBE_TIMEOUT_MS),
    };
  }
  return undefined;
}

/** The identity of record `index`: its bytes as text, all but the epoch (each box sets its own). */
export function recordKey(m: Views, index: number): string {
  const first = recordAt(index) >>> 1;
  const units = m.u16;
  let key = "";
  for (let i = 0; i < POLICY_RECORD_SIZE >>> 1; i++) {
    const at = i << 1; // the unit's offset in the record
    if (at < POLICY_EPOCH || at >= POLICY_EPOCH + 8) key += String.fromCharCode(units[first + i]);
  }
  return key;
}

/** One record's worth of memory to encode a policy in, for its key. */
const scratch = view(new ArrayBuffer(POLICY_TABLE_OFFSET + POLICY_RECORD_SIZE));

/** The identity of the record `policy` would make (see recordKey). */
export function policyKey(policy: Policy, lockBytes: number): string {
  writePolicy(scratch, 0, policy, lockBytes, 0);
  return recordKey(scratch, 0);
}
