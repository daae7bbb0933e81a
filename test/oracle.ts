// An independent model of go-zero's googleBreaker, written the way go-zero writes it: an array of
// buckets, a rolling window that resets the buckets it skips, and `history()` walking every bucket
// on every call. It shares nothing with the engines but the random sequence (xorshift32 from the
// slot's initial state), so agreeing with it checks the engines' O(1) bookkeeping.

interface Bucket {
  success: number;
  failure: number;
  drop: number;
}

export interface OracleOptions {
  buckets: number;
  bucketMs: number;
  k: number;
  minK: number;
  protection: number;
  forcePassMs: number;
}

export class GoZeroOracle {
  private readonly window: Bucket[];
  private offset = 0;
  private lastTime: number;
  private lastPass = 0;
  private lastPassSet = false;

  constructor(
    private readonly o: OracleOptions,
    created: number,
    private rng: number,
  ) {
    this.window = Array.from({ length: o.buckets }, () => ({ success: 0, failure: 0, drop: 0 }));
    this.lastTime = created;
  }

  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 4294967296;
  }

  private span(now: number): number {
    const offset = Math.floor((now - this.lastTime) / this.o.bucketMs);
    return offset >= 0 && offset < this.o.buckets ? offset : this.o.buckets;
  }

  private add(now: number, field: keyof Bucket): void {
    const span = this.span(now);
    if (span > 0) {
      for (let i = 0; i < span; i++) {
        const b = this.window[(this.offset + i + 1) % this.o.buckets];
        b.success = b.failure = b.drop = 0;
      }
      this.offset = (this.offset + span) % this.o.buckets;
      this.lastTime = now - ((now - this.lastTime) % this.o.bucketMs);
    }
    this.window[this.offset][field]++;
  }

  history(now: number) {
    let accepts = 0,
      total = 0,
      working = 0,
      failing = 0;
    const span = this.span(now);
    const diff = this.o.buckets - span;
    for (let i = 0; i < diff; i++) {
      const b = this.window[(this.offset + span + 1 + i) % this.o.buckets];
      accepts += b.success;
      total += b.success + b.failure + b.drop;
      if (b.failure > 0) working = 0;
      else if (b.success > 0) working++;
      if (b.success > 0) failing = 0;
      else if (b.failure > 0) failing++;
    }
    return { accepts, total, working, failing };
  }

  /** go-zero `accept()` + `markDrop()`: true when the call passes. */
  allow(now: number): boolean {
    const { k, minK, buckets, protection, forcePassMs } = this.o;
    const h = this.history(now);
    const w = Math.max(k - ((k - minK) * h.failing) / buckets, minK);
    let dropRatio = (h.total - protection - w * h.accepts) / (h.total + 1);
    if (dropRatio <= 0) return true;
    if (this.lastPassSet && now - this.lastPass > forcePassMs) {
      this.lastPass = now;
      return true;
    }
    dropRatio *= (buckets - h.working) / buckets;
    if (this.random() < dropRatio) {
      this.add(now, "drop");
      return false;
    }
    this.lastPass = now;
    this.lastPassSet = true;
    return true;
  }

  success(now: number): void {
    this.add(now, "success");
  }

  failure(now: number): void {
    this.add(now, "failure");
  }
}
