// The one description of a box's memory, read by both engines.
//
// `assembly/` imports this file as AssemblyScript (every constant is an integer literal, so it
// compiles as `i32` there) and `src/engine-js/` imports it as TypeScript. Both engines therefore read
// and write the very same bytes: snapshots, engine switching and the lockstep test compare plain
// byte ranges. `test/layout.test.ts` fails on overlap, misalignment or overflow.
//
// A box's memory, from address 0:
//
//   0            64                       16448
//   ┌────────────┬────────────────────────┬──────────────────────────────────── … ─┐
//   │ box header │ policy table           │ slots                                  │
//   │ 64 B       │ 256 records × 64 B     │ bump-allocated, 16-byte aligned        │
//   └────────────┴────────────────────────┴──────────────────────────────────── … ─┘
//
// All numbers are little-endian (WebAssembly's order, and every platform Node and browsers run on).

/** Bumped whenever any offset or size below changes; snapshots carry it. */
export const LAYOUT_VERSION = 1;

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

// ── Policy table ───────────────────────────────────────────────────────────────────────────────
// Options shared by many slots live once here; a slot names its record by index (u8).
//
//   0      1         2          4          8        16         24     32      40           48            56      64
//   ┌──────┬─────────┬──────────┬──────────┬────────┬──────────┬──────┬───────┬────────────┬─────────────┬───────┐
//   │ kind │ buckets │ slotSize │ reserved │ epoch  │ bucketMs │ k    │ minK  │ protection │ forcePassMs │ rsvd  │
//   │ u8   │ u8      │ u16      │ u32      │ f64    │ f64      │ f64  │ f64   │ f64        │ f64         │ f64   │
//   └──────┴─────────┴──────────┴──────────┴────────┴──────────┴──────┴───────┴────────────┴─────────────┴───────┘
//
// `epoch` is the time bucket 0 starts: buckets of every slot under this policy are aligned to it
// (go-zero aligns them to the breaker's creation; a box aligns them to the policy's creation).
export const POLICY_TABLE_OFFSET = BOX_HEADER_SIZE;
export const POLICY_RECORD_SIZE = 64;
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

/** Policy kinds (the `kind` byte). 0 marks an unused record. */
export const KIND_ADAPTIVE = 1;

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

/** The most successes `pending` holds; the facade hands the next one to the core. */
export const PENDING_LIMIT = 255;

// ── Codes that cross the boundary ──────────────────────────────────────────────────────────────
export const OUTCOME_SUCCESS = 0;
export const OUTCOME_FAILURE = 1;

export const DECISION_DROP = 0;
export const DECISION_PASS = 1;
