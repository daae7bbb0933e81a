import { describe, expect, it } from "vitest";
import * as L from "../src/core/layout.js";

type Field = [name: string, offset: number, size: number];

/** Fails on overlap, misalignment or a field past the end of its record. */
function checkRecord(fields: Field[], recordSize: number) {
  const taken = new Array<string | undefined>(recordSize).fill(undefined);
  for (const [name, offset, size] of fields) {
    expect(offset % size, `${name} is misaligned`).toBe(0);
    expect(offset + size, `${name} overflows the record`).toBeLessThanOrEqual(recordSize);
    for (let i = offset; i < offset + size; i++) {
      expect(taken[i], `${name} overlaps ${taken[i]}`).toBeUndefined();
      taken[i] = name;
    }
  }
}

describe("layout", () => {
  it("adaptive slot header: no overlap, aligned, 32 bytes", () => {
    checkRecord(
      [
        ["policy", L.SLOT_POLICY, 1],
        ["flags", L.SLOT_FLAGS, 1],
        ["gen", L.SLOT_GEN, 2],
        ["rng", L.SLOT_RNG, 4],
        ["bucket", L.SLOT_BUCKET, 4],
        ["total", L.SLOT_TOTAL, 4],
        ["accepts", L.SLOT_ACCEPTS, 4],
        ["offset", L.SLOT_OFFSET, 1],
        ["working", L.SLOT_WORKING, 1],
        ["failing", L.SLOT_FAILING, 1],
        ["pending", L.SLOT_PENDING, 1],
        ["lastPass", L.SLOT_LAST_PASS, 8],
      ],
      L.ADAPTIVE_HEADER_SIZE,
    );
    expect(L.ADAPTIVE_HEADER_SIZE % 8).toBe(0);
  });

  it("bucket: three u32 counters", () => {
    checkRecord(
      [
        ["success", L.BUCKET_SUCCESS, 4],
        ["failure", L.BUCKET_FAILURE, 4],
        ["drop", L.BUCKET_DROP, 4],
      ],
      L.BUCKET_SIZE,
    );
  });

  it("policy record: no overlap, aligned", () => {
    checkRecord(
      [
        ["kind", L.POLICY_KIND, 1],
        ["buckets", L.POLICY_BUCKETS, 1],
        ["slotSize", L.POLICY_SLOT_SIZE, 2],
        ["epoch", L.POLICY_EPOCH, 8],
        ["bucketMs", L.POLICY_BUCKET_MS, 8],
        ["k", L.POLICY_K, 8],
        ["minK", L.POLICY_MIN_K, 8],
        ["protection", L.POLICY_PROTECTION, 8],
        ["forcePassMs", L.POLICY_FORCE_PASS_MS, 8],
      ],
      L.POLICY_RECORD_SIZE,
    );
  });

  it("regions follow each other without overlap and slots start aligned", () => {
    expect(L.POLICY_TABLE_OFFSET).toBeGreaterThanOrEqual(L.BOX_HEADER_SIZE);
    expect(L.SLOTS_OFFSET).toBeGreaterThanOrEqual(
      L.POLICY_TABLE_OFFSET + L.POLICY_LIMIT * L.POLICY_RECORD_SIZE,
    );
    expect(L.SLOTS_OFFSET % L.SLOT_ALIGN).toBe(0);
    expect(L.SLOT_ALIGN % 8).toBe(0);
  });

  it("an adaptive breaker with go-zero's 40 buckets takes at most 512 bytes", () => {
    expect(L.ADAPTIVE_HEADER_SIZE + 40 * L.BUCKET_SIZE).toBeLessThanOrEqual(512);
  });

  it("u8 fields hold every value they must: 255 buckets, policy indexes, the pending limit", () => {
    expect(L.POLICY_LIMIT).toBeLessThanOrEqual(256);
    expect(L.PENDING_LIMIT).toBeLessThanOrEqual(255);
  });
});
