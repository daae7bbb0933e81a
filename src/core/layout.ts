// The one description of a box's memory, read by both engines.
//
// `assembly/` imports this file as AssemblyScript (every constant is an integer literal, so it
// compiles as `i32` there) and `src/engine-js/` imports it as TypeScript. Both engines therefore read
// and write the very same bytes: snapshots, engine switching and the lockstep test compare plain
// byte ranges. `test/layout.test.ts` fails on overlap, misalignment or overflow.
//
// A box's memory, from address 0:
//
//   0            64                       32832
//   ┌────────────┬────────────────────────┬──────────────────────────────────── … ─┐
//   │ box header │ policy table           │ slots                                  │
//   │ 64 B       │ 256 records × 128 B    │ bump-allocated, 16-byte aligned        │
//   └────────────┴────────────────────────┴──────────────────────────────────── … ─┘
//
// All numbers are little-endian (WebAssembly's order, and every platform Node and browsers run on).

/** Bumped whenever any offset or size below changes; snapshots carry it. */
export const LAYOUT_VERSION = 2;

// ── Box header ─────────────────────────────────────────────────────────────────────────────────
//
//   0        4          8          12                                    64
//   ┌────────┬──────────┬──────────┬─────────────────────────────────────┐
//   │ magic  │ version  │ reserved │ reserved                            │
//   │ u32    │ u32      │ u32      │                                     │
//   └────────┴──────────┴──────────┴─────────────────────────────────────┘
export const BOX_MAGIC = 0x786f6262; // "bbox" read as a little-endian u32
export const BOX_MAGIC_OFFSET = 0;
export const BOX_VERSION_OFFSET = 4;
export const BOX_HEADER_SIZE = 64;

// ── Shared boxes ───────────────────────────────────────────────────────────────────────────────
// A box shared by threads keeps in its header what every thread must agree on (a box of one
// thread keeps it in JS and leaves these bytes 0). Every field is read and written with atomics,
// and the allocation fields only while holding `lock`:
//
//   8      12     16     20         24         28     32       36        40         44         48           52     56
//   ┌──────┬──────┬──────┬──────────┬──────────┬──────┬────────┬─────────┬──────────┬──────────┬────────────┬──────┬──────────┐
//   │flags │ top  │ lock │ policies │ slotsMade│ keys │keySlots│ keyCount│ arenaTop │ arenaEnd │ slotsStart │ seed │ maxBytes │
//   │ u32  │ u32  │ u32  │ u32      │ u32      │ u32  │ u32    │ u32     │ u32      │ u32      │ u32        │ u32  │ f64      │
//   └──────┴──────┴──────┴──────────┴──────────┴──────┴────────┴─────────┴──────────┴──────────┴────────────┴──────┴──────────┘
//
// flags      — BOX_SHARED
// top        — end of the last slot made; a slot is initialised before `top` passes it, so a sweep
//              that reads `top` sees only whole slots
// lock       — 0 or 1: held while making a slot, a policy record or a key (never on the hot path)
// policies   — policy records in use; a record is written whole before this counts it
// keys       — address of the key table: `keySlots` entries (a power of two) of KEY_ENTRY_SIZE
// arenaTop   — the key arena, [keys + keySlots·16, arenaEnd): keys as UTF-16 code units
// slotsStart — the first slot (past the key table and arena)
//
// A key entry (open addressing, linear probing; never removed):
//   0       4       8         12
//   ┌───────┬───────┬─────────┬────────┐
//   │ slot  │ hash  │ keyAt   │ keyLen │   slot 0 = empty; it is stored last, atomically, so an
//   │ u32   │ u32   │ u32     │ u32    │   entry whose slot a reader sees is complete
//   └───────┴───────┴─────────┴────────┘
//
// Each slot of a shared box ends in a SLOT_LOCK_SIZE lock word (its policy's slot size includes
// it): bit 0 held (every core operation on the slot holds it), bits 1–7 the holder's thread
// number (SHARED_OWNER_SHIFT); bits 16–31 successes counted without
// the core, SHARED_SUCCESS each, and bits 8–15 the low byte of the generation they were settled in;
// the next holder folds them, or drops them if the generation has moved on (assembly/lock.ts).
// In a shared box `pending` stays 0.
export const BOX_FLAGS_OFFSET = 8;
export const BOX_TOP_OFFSET = 12;
export const BOX_LOCK_OFFSET = 16;
export const BOX_POLICIES_OFFSET = 20;
export const BOX_SLOTS_MADE_OFFSET = 24;
export const BOX_KEYS_OFFSET = 28;
export const BOX_KEY_SLOTS_OFFSET = 32;
export const BOX_KEY_COUNT_OFFSET = 36;
export const BOX_ARENA_TOP_OFFSET = 40;
export const BOX_ARENA_END_OFFSET = 44;
export const BOX_SLOTS_START_OFFSET = 48;
export const BOX_SEED_OFFSET = 52;
export const BOX_MAX_BYTES_OFFSET = 56;
export const BOX_SHARED = 1;
export const KEY_ENTRY_SIZE = 16;
export const KEY_SLOT = 0;
export const KEY_HASH = 4;
export const KEY_AT = 8;
export const KEY_LENGTH = 12;
export const SLOT_LOCK_SIZE = 4;
/**
 * Tries at a held lock (slot or box) before it is taken over: its holder is gone (~1.6 s js,
 * 0.25 s wasm here). Long enough that a holder merely descheduled (4 threads on 2 cores, a GC
 * pause) is not taken for dead: 2^24 (30 ms in wasm) lost a count now and then in that case.
 */
export const LOCK_SPINS = 0x8000000;
/** A lock word names its holder (bits 1–7); only it releases it. Numbers: 1..SHARED_OWNERS. */
export const SHARED_OWNER_SHIFT = 1;
export const SHARED_OWNERS = 127;
/** Threads attached to a shared box so far (u32), in the scratch policy record 0's unused epoch. */
export const BOX_THREADS_OFFSET = 64 + 8;
/** One success counted in a lock word (bits 16–31). */
export const SHARED_SUCCESS = 65536;
/** Where a lock word keeps the generation byte of its successes (bits 8–15). */
export const SHARED_TAG_SHIFT = 8;
/** Successes a lock word may hold before the facade hands the next one to the core. */
export const SHARED_SUCCESS_LIMIT = 65535;

// ── Policy table ───────────────────────────────────────────────────────────────────────────────
// Options shared by many slots live once here; a slot names its record by index (u8). The first
// 24 bytes mean the same for every kind, so windows roll alike.
//
//   0      1         2          4 … 8      8        16
//   ┌──────┬─────────┬──────────┬──────────┬────────┬──────────┬── kind-specific … ──┐
//   │ kind │ buckets │ slotSize │ (kind)   │ epoch  │ bucketMs │                      │  128 B
//   │ u8   │ u8      │ u16      │          │ f64    │ f64      │                      │
//   └──────┴─────────┴──────────┴──────────┴────────┴──────────┴─────────────────────┘
//
// Adaptive:  4 recovery u8 (RECOVERY_GO_ZERO | RECOVERY_FAST) · 5 outageBuckets u8
//   24 k f64 · 32 minK f64 · 40 protection f64 · 48 forcePassMs f64
//
// Three-state:
//   4 trip u8 · 5 window u8 (WINDOW_TIME | WINDOW_COUNT) · 6 halfOpenMaxCalls u16
//   24 threshold f64 · 32 minRequests f64 · 40 slowCallMs f64 · 48 openMs f64 · 56 maxOpenMs f64
//   64 backoff f64 · 72 halfOpenSuccesses u16 · 74 windowCalls u16 · 80 probeTimeoutMs f64
//   88 slowThreshold f64 (TRIP_RATIOS: the slow-call ratio; `threshold` is the failure ratio)
//
// `epoch` is the time bucket 0 starts: buckets of every slot under this policy are aligned to it
// (go-zero aligns them to the breaker's creation; a box aligns them to the policy's creation).
export const POLICY_TABLE_OFFSET = BOX_HEADER_SIZE;
export const POLICY_RECORD_SIZE = 128;
export const POLICY_LIMIT = 256;
export const POLICY_KIND = 0;
export const POLICY_BUCKETS = 1;
export const POLICY_SLOT_SIZE = 2;
export const POLICY_EPOCH = 8;
export const POLICY_BUCKET_MS = 16;
export const POLICY_K = 24;
export const POLICY_MIN_K = 32;
export const POLICY_PROTECTION = 40;
export const POLICY_FORCE_PASS_MS = 48;
export const POLICY_RECOVERY = 4;
export const POLICY_OUTAGE_BUCKETS = 5;
export const POLICY_TRIP = 4;
export const POLICY_WINDOW = 5;
export const POLICY_HALF_OPEN_MAX_CALLS = 6;
export const POLICY_THRESHOLD = 24;
export const POLICY_MIN_REQUESTS = 32;
export const POLICY_SLOW_CALL_MS = 40;
export const POLICY_OPEN_MS = 48;
export const POLICY_MAX_OPEN_MS = 56;
export const POLICY_BACKOFF = 64;
export const POLICY_HALF_OPEN_SUCCESSES = 72;
export const POLICY_WINDOW_CALLS = 74;
/** Half-open, each probe sets `openUntil` to now + this; probes out past it count as failed. */
export const POLICY_PROBE_TIMEOUT_MS = 80;
/** TRIP_RATIOS: the slow-call ratio that trips it, beside the failure ratio in POLICY_THRESHOLD. */
export const POLICY_SLOW_THRESHOLD = 88;

/**
 * Adaptive recovery modes. RECOVERY_GO_ZERO is go-zero's algorithm exactly. RECOVERY_FAST adds an
 * outage rule: while the window's trailing run of failure-only buckets is at least `outageBuckets`
 * long (and the window holds more than `protection` requests), only probes pass (one per
 * forcePassMs, the first at once) and the calls dropped are not counted. Counting drops is what
 * keeps go-zero dropping long after a backend heals (go-zero #4101, PR #5551): in an outage a drop
 * carries no news, while under overload (where buckets hold successes too) drops still count, as
 * the SRE formula wants.
 */
export const RECOVERY_GO_ZERO = 0;
export const RECOVERY_FAST = 1;

/** Policy kinds (the `kind` byte). 0 marks an unused record. */
export const KIND_ADAPTIVE = 1;
export const KIND_THREE_STATE = 2;

/** Trip strategies of a three-state policy. */
export const TRIP_CONSECUTIVE = 1;
export const TRIP_FAILURE_RATIO = 2;
export const TRIP_FAILURE_COUNT = 3;
export const TRIP_SLOW_RATIO = 4;
/** The failure ratio or the slow-call ratio, whichever the window meets first (resilience4j). */
export const TRIP_RATIOS = 5;

/** Windows of a three-state policy: none (consecutive failures only), time buckets, last N calls. */
export const WINDOW_NONE = 0;
export const WINDOW_TIME = 1;
export const WINDOW_COUNT = 2;

/** First slot address; every slot starts on a multiple of SLOT_ALIGN. */
export const SLOTS_OFFSET = POLICY_TABLE_OFFSET + POLICY_LIMIT * POLICY_RECORD_SIZE;
export const SLOT_ALIGN = 16;

// ── Adaptive slot (Google SRE throttling, go-zero) ─────────────────────────────────────────────
//
//   0        1       2       4       8        12      16        20       21        22        23        24         32
//   ┌────────┬───────┬───────┬───────┬────────┬───────┬─────────┬────────┬─────────┬─────────┬─────────┬──────────┐
//   │ policy │ flags │ gen   │ rng   │ bucket │ total │ accepts │ offset │ working │ failing │ pending │ lastPass │
//   │ u8     │ u8    │ u16   │ u32   │ u32    │ u32   │ u32     │ u8     │ u8      │ u8      │ u8      │ f64      │
//   └────────┴───────┴───────┴───────┴────────┴───────┴─────────┴────────┴─────────┴─────────┴─────────┴──────────┘
//   32 + 12·i
//   ┌─────────┬─────────┬─────────┐
//   │ success │ failure │ drop    │   × `buckets`, a ring; `offset` is the newest (current) bucket
//   │ u32     │ u32     │ u32     │
//   └─────────┴─────────┴─────────┘
//
// bucket  — number of the current bucket, floor((now − epoch) / bucketMs) mod 2^32
// total   — Σ (success + failure + drop) over the live buckets (go-zero counts drops in total)
// accepts — Σ success over the live buckets
// working — trailing run of buckets with successes and no failures (oldest → newest)
// failing — trailing run of buckets with failures and no successes; empty buckets are neutral
// flags   — FLAG_PASS: the drop ratio is ≤ 0 for this bucket, so `allow` may pass without the core;
//           FLAG_LAST_PASS: lastPass holds the time of the last pass won in a draw;
//           FLAG_FREE: the slot is on the box's free list (sweeps skip it; its policy byte stays,
//           so a sweep can still step over it)
// gen     — bumped when the slot is (re)initialised; a settlement carrying another gen is ignored
// pending — successes the facade counted without calling the core, all in the current bucket
//           (it does so only while `bucket` is the bucket of `now`); every core operation on the
//           slot first folds them into that bucket, before anything else
export const SLOT_POLICY = 0;
export const SLOT_FLAGS = 1;
export const SLOT_GEN = 2;
export const SLOT_RNG = 4;
export const SLOT_BUCKET = 8;
export const SLOT_TOTAL = 12;
export const SLOT_ACCEPTS = 16;
export const SLOT_OFFSET = 20;
export const SLOT_WORKING = 21;
export const SLOT_FAILING = 22;
export const SLOT_PENDING = 23;
export const SLOT_LAST_PASS = 24;
export const ADAPTIVE_HEADER_SIZE = 32;
export const BUCKET_SIZE = 12;
export const BUCKET_SUCCESS = 0;
export const BUCKET_FAILURE = 4;
export const BUCKET_DROP = 8;

export const FLAG_PASS = 1;
export const FLAG_LAST_PASS = 2;
export const FLAG_FREE = 4;
/**
 * With FLAG_PASS: the pass holds whatever the time, and successes may wait in `pending` (a closed
 * three-state breaker that no run of successes could trip; where one could, FLAG_PASS alone is set
 * and successes go to the core, so a success that completes a tripping window trips it).
 */
export const FLAG_PASS_ANY_TIME = 8;
/** The slot is three-state: a success may only be counted in `pending` while FLAG_PASS_ANY_TIME is set. */
export const FLAG_THREE_STATE = 16;
/**
 * Adaptive: whether the last shedding state reported was "shedding" (FLAG_PASS clear). allow and
 * record compare it with FLAG_PASS when they are done and return CHANGED (closed → open when
 * shedding starts, open → closed when it stops) when they differ, so every start and stop is
 * reported once, by the first call that sees it, whoever (a sweep, a thread) moved the flag.
 */
export const FLAG_SHEDDING = 32;

/** The most successes `pending` holds; the facade hands the next one to the core. */
export const PENDING_LIMIT = 255;

// ── Three-state slot (closed → open → half-open: gobreaker, Sentinel, resilience4j) ─────────────
//
//   0        1       2      4       5      6          8        12         16          20       22        23
//   ┌────────┬───────┬──────┬───────┬──────┬──────────┬────────┬──────────┬───────────┬────────┬─────────┬─────────┐
//   │ policy │ flags │ gen  │ state │ mode │ inFlight │ bucket │ requests │ successes │ offset │ reopens │ pending │
//   │ u8     │ u8    │ u16  │ u8    │ u8   │ u16      │ u32    │ u32      │ u32       │ u16    │ u8      │ u8      │
//   └────────┴───────┴──────┴───────┴──────┴──────────┴────────┴──────────┴───────────┴────────┴─────────┴─────────┘
//   24          32          40         44           48                    52                    56          60           64
//   ┌───────────┬───────────┬──────────┬────────────┬─────────────────────┬─────────────────────┬───────────┬────────────┐
//   │ openUntil │ changedAt │ failures │ exclusions │ consecutiveSuccesses│ consecutiveFailures │ slowCalls │ isolations │
//   │ f64       │ f64       │ u32      │ u32        │ u32                 │ u32                 │ u32       │ u32        │
//   └───────────┴───────────┴──────────┴────────────┴─────────────────────┴─────────────────────┴───────────┴────────────┘
//   then the window, by the policy's `window`:
//     WINDOW_NONE   nothing (a consecutive-failures breaker is 64 bytes)
//     WINDOW_TIME   `buckets` × { requests u32, failures u32, slow u32 }, a ring; `offset` is the newest
//     WINDOW_COUNT  { filled u32, failures u32, slow u32 } then `windowCalls` bytes, one per call
//                   (bit 0 failure, bit 1 slow), a ring; `offset` is the next to write
//
// `bucket`, `pending` and `gen` sit where the adaptive slot has them, so the facade's fast path
// reads every kind alike. Counts (requests … slowCalls) and the window cover the current state
// only: every state change clears them and bumps `gen` (gobreaker), so permits issued before the
// change settle nothing. `inFlight` counts half-open probes; `reopens` is the backoff exponent;
// `isolations` counts open `isolate()` handles (any > 0 rejects every call).
export const TS_STATE = 4;
export const TS_MODE = 5;
export const TS_IN_FLIGHT = 6;
export const TS_REQUESTS = 12;
export const TS_SUCCESSES = 16;
export const TS_OFFSET = 20;
export const TS_REOPENS = 22;
export const TS_OPEN_UNTIL = 24;
export const TS_CHANGED_AT = 32;
export const TS_FAILURES = 40;
export const TS_EXCLUSIONS = 44;
export const TS_CONSECUTIVE_SUCCESSES = 48;
export const TS_CONSECUTIVE_FAILURES = 52;
export const TS_SLOW_CALLS = 56;
export const TS_ISOLATIONS = 60;
export const THREE_STATE_HEADER_SIZE = 64;
export const TS_BUCKET_SIZE = 12;
export const TS_BUCKET_REQUESTS = 0;
export const TS_BUCKET_FAILURES = 4;
export const TS_BUCKET_SLOW = 8;
export const TS_COUNT_HEADER_SIZE = 12;
export const TS_COUNT_FILLED = 0;
export const TS_COUNT_FAILURES = 4;
export const TS_COUNT_SLOW = 8;
export const CALL_FAILURE = 1;
export const CALL_SLOW = 2;

export const STATE_CLOSED = 0;
export const STATE_OPEN = 1;
export const STATE_HALF_OPEN = 2;

/** Manual modes: MODE_NORMAL runs the state machine; the others override it. */
export const MODE_NORMAL = 0;
/** Every call is rejected. */
export const MODE_FORCED_OPEN = 1;
/** Every call is allowed and counted; nothing trips. */
export const MODE_DISABLED = 2;
/** The state machine runs and counts, but no call is ever rejected. */
export const MODE_METRICS_ONLY = 3;

// ── Stats records ──────────────────────────────────────────────────────────────────────────────
// `sweepStats` writes one record per live slot into a scratch region past the last slot:
//
//   0      8       16         24          32         40      48        56          64          72
//   ┌──────┬───────┬──────────┬───────────┬──────────┬───────┬─────────┬───────────┬───────────┐
//   │ slot │ state │ requests │ successes │ failures │ drops │ slow    │ dropRatio │ changedAt │
//   │ f64  │ f64   │ f64      │ f64       │ f64      │ f64   │ f64     │ f64       │ f64       │
//   └──────┴───────┴──────────┴───────────┴──────────┴───────┴─────────┴───────────┴───────────┘
//
// state: a STATS_* code. Adaptive: the window's sums; dropRatio the probability that the next call
// is dropped; changedAt NaN. Three-state: the counts since the last state change (drops 0);
// dropRatio 1 while rejecting, else 0; changedAt the time of the last state change.
export const STATS_RECORD_SIZE = 72;
export const STATS_SLOT = 0;
export const STATS_STATE = 8;
export const STATS_REQUESTS = 16;
export const STATS_SUCCESSES = 24;
export const STATS_FAILURES = 32;
export const STATS_DROPS = 40;
export const STATS_SLOW = 48;
export const STATS_DROP_RATIO = 56;
export const STATS_CHANGED_AT = 64;
/** The state codes of a stats record: STATE_* for the three states, then the manual overrides. */
export const STATS_FORCED_OPEN = 3;
export const STATS_DISABLED = 4;
export const STATS_METRICS_ONLY = 5;
export const STATS_ISOLATED = 6;

// ── Codes that cross the boundary ──────────────────────────────────────────────────────────────
export const OUTCOME_SUCCESS = 0;
export const OUTCOME_FAILURE = 1;
/** Neither success nor failure (gobreaker IsExcluded): counted apart, never trips anything. */
export const OUTCOME_EXCLUDED = 2;

/** A decision: the low bits; CHANGED is added when the call also changed the slot's state. */
export const DECISION_DROP = 0;
export const DECISION_PASS = 1;
/** Rejected because the half-open probe cap is reached (gobreaker's "too many requests"). */
export const DECISION_TOO_MANY = 2;
export const DECISION_MASK = 15;
export const CHANGED = 16;
/**
 * With CHANGED, the transition's states (STATE_*): bits 5–6 the state it left, bits 7–8 the state
 * it entered. In a shared box another thread may move the slot again before the caller looks, so
 * the events of a transition are told by what the core saw, under the slot's lock.
 */
export const CHANGED_FROM_SHIFT = 5;
export const CHANGED_TO_SHIFT = 7;
export const CHANGED_STATE_MASK = 3;
