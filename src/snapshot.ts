// Snapshots: a breaker's policy and slot bytes, stamped with the layout version, as plain JSON
// (`breaker.toJSON()`), and restoring one into a fresh slot (`initialState`).

import type { BoxMemory } from "./box-memory.js";
import {
  FLAG_FREE, KIND_ADAPTIVE, LAYOUT_VERSION, POLICY_BUCKET_MS, POLICY_RECORD_SIZE, POLICY_SLOT_SIZE, POLICY_TABLE_OFFSET, SLOT_ALIGN, SLOT_BUCKET,
  RECOVERY_FAST, SLOT_FLAGS, SLOT_GEN, SLOT_PENDING, SLOT_POLICY, TRIP_CONSECUTIVE, TRIP_FAILURE_COUNT, TRIP_FAILURE_RATIO,
  TS_ISOLATIONS, WINDOW_COUNT, WINDOW_TIME,
} from "./core/layout.js";
import { checkPolicy, type Policy, type PolicyOptions } from "./options.js";

/** What `breaker.toJSON()` returns and `initialState` takes. */
export interface BreakerSnapshot {
  format: "breakerbox";
  /** The memory layout the bytes follow; a breakerbox with another layout refuses the snapshot. */
  layout: number;
  /** The breaker's policy, as options. */
  policy: PolicyOptions;
  /** When it was taken, on the breaker's clock (ms). Restoring ages the window by the time since. */
  savedAt: number;
  /** The slot's bytes, base64. */
  slot: string;
  /** The last failure reasons, oldest first. */
  reasons: string[];
}

/** The options that give `policy` back (the inverse of checkPolicy). */
export function policyOptions(policy: Policy): PolicyOptions {
  if (policy.kind === "adaptive") {
    const { buckets, bucketMs, k, minK, protection, forcePassMs } = policy;
    const recovery = policy.recovery === RECOVERY_FAST
      ? { recovery: "fast" as const, outageBuckets: policy.outageBuckets } : { recovery: "go-zero" as const };
    return { policy: "adaptive", windowMs: buckets * bucketMs, buckets, k, minK, protection, forcePassMs, ...recovery };
  }
  const { trip, threshold, minRequests, slowCallMs } = policy;
  const tripOptions = trip === TRIP_CONSECUTIVE ? { consecutiveFailures: threshold }
    : trip === TRIP_FAILURE_RATIO ? { failureRatio: threshold, minRequests }
    : trip === TRIP_FAILURE_COUNT ? { failureCount: threshold, minRequests }
    : { slowCallRatio: threshold, slowCallMs, minRequests };
  const window = policy.window === WINDOW_TIME ? { windowMs: policy.buckets * policy.bucketMs, buckets: policy.buckets }
    : policy.window === WINDOW_COUNT ? { windowCalls: policy.windowCalls } : {};
  return {
    policy: "three-state", trip: tripOptions, ...window, openMs: policy.openMs, backoff: policy.backoff,
    maxOpenMs: policy.maxOpenMs, halfOpenMaxCalls: policy.halfOpenMaxCalls, halfOpenSuccesses: policy.halfOpenSuccesses,
  };
}

function encode(bytes: Uint8Array): string {
  if (typeof Buffer === "function") return Buffer.from(bytes).toString("base64");
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function decode(text: string): Uint8Array {
  if (typeof Buffer === "function") return new Uint8Array(Buffer.from(text, "base64"));
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The bytes of a slot a snapshot holds: all of it but a shared box's lock word. */
function slotSize(memory: BoxMemory, slot: number): number {
  return memory.u16[(POLICY_TABLE_OFFSET + memory.u8[slot + SLOT_POLICY] * POLICY_RECORD_SIZE + POLICY_SLOT_SIZE) >>> 1] - memory.lockBytes;
}

/** A snapshot of `slot` (brought up to date first, without changing its state). */
export function takeSnapshot(memory: BoxMemory, slot: number, policy: Policy, reasons: string[]): BreakerSnapshot {
  const size = slotSize(memory, slot);
  const savedAt = memory.now();
  memory.catchUp(slot, savedAt);
  return {
    format: "breakerbox",
    layout: LAYOUT_VERSION,
    policy: policyOptions(policy),
    savedAt,
    slot: encode(new Uint8Array(memory.buffer, slot, size)),
    reasons: [...reasons],
  };
}

/** Checks a snapshot's shape and version, and returns its validated policy. */
export function checkSnapshot(value: unknown): { snapshot: BreakerSnapshot; policy: Policy } {
  if (typeof value !== "object" || value === null || (value as BreakerSnapshot).format !== "breakerbox") {
    throw new TypeError("initialState must be a snapshot from breaker.toJSON() (format 'breakerbox')");
  }
  const snapshot = value as BreakerSnapshot;
  if (snapshot.layout !== LAYOUT_VERSION) {
    throw new RangeError(`initialState has memory layout version ${String(snapshot.layout)}; this breakerbox reads version ${LAYOUT_VERSION}`);
  }
  if (typeof snapshot.savedAt !== "number" || typeof snapshot.slot !== "string" || !Array.isArray(snapshot.reasons)) {
    throw new TypeError("initialState is missing savedAt, slot or reasons");
  }
  return { snapshot, policy: checkPolicy("initialState.policy", snapshot.policy) };
}

/**
 * Copies a snapshot's bytes into `slot`, freshly allocated under the snapshot's policy. The slot
 * keeps its own policy index and generation (permits of the old breaker settle nothing), is not
 * isolated (handles do not travel), and its window is aged by the time since the snapshot.
 */
export function restoreSnapshot(memory: BoxMemory, slot: number, snapshot: BreakerSnapshot): void {
  const bytes = decode(snapshot.slot);
  const size = slotSize(memory, slot);
  // A shared box's slots are longer by a lock word, and so padded otherwise: the bytes past the
  // policy's own are zero either way.
  if (Math.abs(bytes.length - size) >= SLOT_ALIGN) {
    throw new RangeError(`initialState.slot has ${bytes.length} bytes; its policy's slots have ${size}`);
  }
  const policyIndex = memory.u8[slot + SLOT_POLICY];
  const generation = memory.u16[(slot + SLOT_GEN) >>> 1];
  const current = memory.u32[(slot + SLOT_BUCKET) >>> 2];
  const bucketMs = memory.f64[(POLICY_TABLE_OFFSET + policyIndex * POLICY_RECORD_SIZE + POLICY_BUCKET_MS) >>> 3];
  const elapsed = Math.max(0, Math.floor((memory.now() - snapshot.savedAt) / bucketMs));
  memory.u8.set(bytes.subarray(0, size), slot);
  memory.u8[slot + SLOT_POLICY] = policyIndex;
  memory.u16[(slot + SLOT_GEN) >>> 1] = generation;
  memory.u8[slot + SLOT_FLAGS] &= ~FLAG_FREE;
  memory.u8[slot + SLOT_PENDING] = 0;
  // The window last moved at savedAt: it is `elapsed` buckets behind the bucket of now.
  memory.u32[(slot + SLOT_BUCKET) >>> 2] = (current - Math.min(elapsed, 0x7fffffff)) >>> 0;
  if (memory.kindOf(slot) !== KIND_ADAPTIVE) {
    memory.core.isolate(slot, -memory.u32[(slot + TS_ISOLATIONS) >>> 2]);
  }
}

/** Splits `initialState` off a set of options: the snapshot, and the options left. */
export function takeInitialState(name: string, options: unknown): { snapshot?: BreakerSnapshot; policy?: Policy; rest: unknown } {
  if (typeof options !== "object" || options === null || !("initialState" in options)) return { rest: options };
  const { initialState, ...rest } = options as Record<string, unknown>;
  if (initialState === undefined) return { rest };
  const policyKeys = Object.keys(rest).filter((key) => key !== "now" && key !== "seed" && key !== "engine");
  if (policyKeys.length > 0) {
    throw new TypeError(`${name}: initialState carries its own policy; remove ${policyKeys.join(", ")}`);
  }
  const { snapshot, policy } = checkSnapshot(initialState);
  return { snapshot, policy, rest };
}
