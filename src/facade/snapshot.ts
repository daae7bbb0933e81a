// Snapshots: a breaker's policy and slot bytes, stamped with the layout version, as plain JSON
// (`breaker.toJSON()`), and restoring one into a fresh slot (`initialState`).

import {
  LAYOUT_VERSION,
  RECOVERY_FAST,
  TRIP_CONSECUTIVE,
  TRIP_FAILURE_COUNT,
  TRIP_FAILURE_RATIO,
  TRIP_RATIOS,
  WINDOW_COUNT,
  WINDOW_TIME,
} from "../core/layout.js";
import { policyKey } from "../core/policy-record.js";
import type { Policy } from "../core/types.js";
import { slotProblem } from "../store/slot-check.js";
import { fitsSlot, readSlot, writeSlot } from "../store/slot-io.js";
import type { Store } from "../store/store.js";
import { checkPolicy, POLICY_OPTION_KEYS } from "./check-options.js";
import type { PolicyOptions } from "./options.js";

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
    const recovery =
      policy.recovery === RECOVERY_FAST
        ? { recovery: "fast" as const, outageBuckets: policy.outageBuckets }
        : { recovery: "go-zero" as const };
    return {
      policy: "adaptive",
      windowMs: buckets * bucketMs,
      buckets,
      k,
      minK,
      protection,
      forcePassMs,
      ...recovery,
    };
  }
  const { trip, threshold, minRequests, slowCallMs } = policy;
  const tripOptions =
    trip === TRIP_CONSECUTIVE
      ? { consecutiveFailures: threshold }
      : trip === TRIP_FAILURE_RATIO
        ? { failureRatio: threshold, minRequests }
        : trip === TRIP_FAILURE_COUNT
          ? { failureCount: threshold, minRequests }
          : trip === TRIP_RATIOS
            ? {
                failureRatio: threshold,
                slowCallRatio: policy.slowThreshold,
                slowCallMs,
                minRequests,
              }
            : { slowCallRatio: threshold, slowCallMs, minRequests };
  const window =
    policy.window === WINDOW_TIME
      ? { windowMs: policy.buckets * policy.bucketMs, buckets: policy.buckets }
      : policy.window === WINDOW_COUNT
        ? { windowCalls: policy.windowCalls }
        : {};
  return {
    policy: "three-state",
    trip: tripOptions,
    ...window,
    openMs: policy.openMs,
    backoff: policy.backoff,
    maxOpenMs: policy.maxOpenMs,
    halfOpenMaxCalls: policy.halfOpenMaxCalls,
    halfOpenSuccesses: policy.halfOpenSuccesses,
    probeTimeoutMs: policy.probeTimeoutMs,
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

/** A snapshot of `slot` (brought up to date first, without changing its state). */
export function takeSnapshot(store: Store, slot: number, reasons: string[]): BreakerSnapshot {
  const savedAt = store.now();
  return {
    format: "breakerbox",
    layout: LAYOUT_VERSION,
    policy: policyOptions(store.policyOf(slot)),
    savedAt,
    slot: encode(readSlot(store, slot, savedAt)),
    reasons: [...reasons],
  };
}

/** Checks a snapshot's shape and version, and returns its validated policy. */
export function checkSnapshot(value: unknown): { snapshot: BreakerSnapshot; policy: Policy } {
  if (
    typeof value !== "object" ||
    value === null ||
    (value as BreakerSnapshot).format !== "breakerbox"
  ) {
    throw new TypeError(
      "initialState must be a snapshot from breaker.toJSON() (format 'breakerbox')",
    );
  }
  const snapshot = value as BreakerSnapshot;
  if (snapshot.layout !== LAYOUT_VERSION) {
    throw new RangeError(
      `initialState has memory layout version ${String(snapshot.layout)}; this breakerbox reads version ${LAYOUT_VERSION}`,
    );
  }
  if (
    typeof snapshot.savedAt !== "number" ||
    typeof snapshot.slot !== "string" ||
    !Array.isArray(snapshot.reasons)
  ) {
    throw new TypeError("initialState is missing savedAt, slot or reasons");
  }
  if (!Number.isFinite(snapshot.savedAt)) {
    throw new RangeError(`initialState.savedAt must be a finite time, got ${snapshot.savedAt}`);
  }
  // JSON has no Infinity: a snapshot that went through JSON.stringify carries null instead, for
  // the options that take Infinity.
  const policy = { ...(snapshot.policy as Record<string, unknown>) };
  for (const key of ["forcePassMs", "probeTimeoutMs"]) {
    if (policy[key] === null) policy[key] = Number.POSITIVE_INFINITY;
  }
  return { snapshot, policy: checkPolicy("initialState.policy", policy) };
}

/**
 * A snapshot's slot bytes, checked against the slots of policy record `index` before any slot is
 * made for them: a bad snapshot throws and touches nothing.
 */
export function snapshotBytes(store: Store, index: number, snapshot: BreakerSnapshot): Uint8Array {
  const bytes = decode(snapshot.slot);
  const size = store.slotSize(index) - store.lockBytes;
  if (!fitsSlot(bytes.length, size)) {
    throw new RangeError(
      `initialState.slot has ${bytes.length} bytes; its policy's slots have ${size}`,
    );
  }
  const problem = slotProblem(bytes, store.policies.of(index));
  if (problem !== undefined)
    throw new RangeError(`initialState.slot is not a slot of its policy (bad ${problem})`);
  return bytes;
}

/**
 * Copies a snapshot's checked bytes into `slot`, freshly made under the snapshot's policy (see
 * writeSlot); its window is aged by the time since the snapshot, `savedAt`.
 */
export function restoreSnapshot(
  store: Store,
  slot: number,
  bytes: Uint8Array,
  savedAt: number,
): void {
  const elapsed = Math.floor((store.now() - savedAt) / store.policyOf(slot).bucketMs);
  writeSlot(store, slot, bytes, Math.max(0, elapsed));
}

/** Splits `initialState` off a set of options: the snapshot, and the options left. */
export function takeInitialState(
  name: string,
  options: unknown,
): { snapshot?: BreakerSnapshot; policy?: Policy; rest: unknown } {
  if (typeof options !== "object" || options === null || !("initialState" in options))
    return { rest: options };
  const { initialState, ...rest } = options as Record<string, unknown>;
  if (initialState === undefined) return { rest };
  const { snapshot, policy } = checkSnapshot(initialState);
  // Policy options beside initialState are welcome when they agree with its policy: each is tried
  // alone on the snapshot's options, and the first that would change the policy is named.
  const own = policyOptions(policy) as Record<string, unknown>;
  const others: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (!POLICY_OPTION_KEYS.has(key)) {
      others[key] = value;
      continue;
    }
    const agrees =
      key === "policy"
        ? value === own.policy
        : samePolicy(checkPolicy(name, { ...own, [key]: value }), policy);
    if (!agrees) {
      throw new TypeError(
        `${name}: ${key} ${describeValue(value)} disagrees with initialState's policy (${key}: ${describeValue(own[key])}); leave it out or make it agree`,
      );
    }
  }
  return { snapshot, policy, rest: others };
}

function samePolicy(a: Policy, b: Policy): boolean {
  return policyKey(a, 0) === policyKey(b, 0);
}

function describeValue(value: unknown): string {
  return value === undefined ? "(unset)" : (JSON.stringify(value) ?? String(value));
}
