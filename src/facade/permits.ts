// Numeric permits for the zero-allocation path. A token is a sequence number; the table remembers
// which numbers are outstanding, and for each the slot and the slot's generation when it was issued
// (one f64: slot · 2^16 + generation). Settling retires the number, so a stale or doubled
// settlement finds nothing and changes nothing. Tokens stay in [1, 2^30): positive Smis, never
// boxed; 0 means "dropped".
//
// Token t lives at place t & mask, so places are reused in turn, once per table length of issues.
// When a token's place is still taken by an older token (one that was never settled, or a call
// that has been out for that long):
//   - a table more than half full of outstanding tokens doubles, up to MAX_PLACES;
//   - otherwise the older token keeps its place and the new one takes the next free number: a
//     lost token costs its own place, and nothing else;
//   - an older token past its lease (the box's `timeoutMs`, when it has one) is reclaimed;
//   - a table of MAX_PLACES more than half full reclaims the older token.
// A reclaimed token is counted in `expired`; its settlement, if it ever comes, counts for nothing,
// as a stale one.
// The memory is therefore bounded (MAX_PLACES × 20 B) and does not grow with traffic, and issuing
// never throws.

const TOKEN_MASK = 0x3fffffff;
/** The most places the table grows to: 2^20, 20 MiB of typed arrays. */
export const MAX_PLACES = 1 << 20;
/** Places tried past a taken one before the older token there is reclaimed. */
const PROBES = 64;

export class Permits {
  private live = new Int32Array(64);
  private owners = new Float64Array(64);
  private issued = new Float64Array(64);
  private mask = 63;
  private sequence = 0;
  /** Tokens issued and not yet settled (or reclaimed). */
  outstanding = 0;
  /** Tokens reclaimed unsettled because the table was full of outstanding ones. */
  expired = 0;
  /** Set by `redeem`: the generation of the permit it retired, and the time it was issued. */
  generation = 0;
  issuedAt = 0;

  /**
   * `maxPlaces`: a power of two, the most places the table grows to (tests take fewer).
   * `leaseMs`: how long a token stays outstanding (the box's `timeoutMs`); a token found at a
   * taken place after its lease is reclaimed at once, before the table grows.
   */
  constructor(
    private readonly maxPlaces = MAX_PLACES,
    private readonly leaseMs = Number.POSITIVE_INFINITY,
  ) {}

  /** A new outstanding token for `slot`, whose generation is `generation`, issued at `issuedAt`. */
  issue(slot: number, generation: number, issuedAt: number): number {
    const token = (this.sequence + 1) & TOKEN_MASK || 1;
    const place = token & this.mask;
    if (this.live[place] !== 0) return this.issueAfterCollision(slot, generation, issuedAt, token);
    this.sequence = token;
    this.live[place] = token;
    this.owners[place] = slot * 65536 + generation;
    this.issued[place] = issuedAt;
    this.outstanding++;
    return token;
  }

  /** issue() when the token's place is taken (kept apart so that issue() stays small to inline). */
  private issueAfterCollision(
    slot: number,
    generation: number,
    issuedAt: number,
    first: number,
  ): number {
    if (this.issued[first & this.mask] + this.leaseMs < issuedAt) {
      this.reclaim(first);
      this.sequence = first - 1; // issue() now takes `first`, whose place is free
      return this.issue(slot, generation, issuedAt);
    }
    if (this.outstanding * 2 > this.mask && this.mask + 1 < this.maxPlaces) {
      this.grow();
      return this.issue(slot, generation, issuedAt);
    }
    let token = first;
    let place = token & this.mask;
    for (let probe = 0; probe < PROBES && this.live[place] !== 0; probe++) {
      token = (token + 1) & TOKEN_MASK || 1;
      place = token & this.mask;
    }
    if (this.live[place] !== 0) {
      // Every place near is taken and the table can grow no more: the older token goes.
      token = first;
      this.reclaim(token);
    }
    this.sequence = token - 1; // issue() now takes `token`, whose place is free
    return this.issue(slot, generation, issuedAt);
  }

  /**
   * Retires an outstanding token issued for `slot` and returns true, leaving the slot's generation
   * at issue in `this.generation`. Any other number (stale, doubled, forged, another slot's)
   * returns false and changes nothing.
   */
  redeem(token: number, slot: number): boolean {
    const place = token & this.mask;
    if (this.live[place] !== token || token === 0) return false;
    const owner = this.owners[place] - slot * 65536;
    if (!(owner >= 0 && owner < 65536)) return false; // another slot's permit
    this.live[place] = 0;
    this.outstanding--;
    this.generation = owner;
    this.issuedAt = this.issued[place];
    return true;
  }

  /**
   * Retires a token of `slot` only if it is stale (issued under another generation than
   * `current`): what a deleted breaker's handle may do with its tokens, since a token of the slot's
   * current generation belongs to whoever holds the slot now.
   */
  retireStale(token: number, slot: number, current: number): void {
    const place = token & this.mask;
    if (this.live[place] !== token || token === 0) return;
    if (this.owners[place] - slot * 65536 !== current) this.redeem(token, slot);
  }

  /** Takes back the outstanding token at `token`'s place, unsettled. */
  private reclaim(token: number): void {
    this.live[token & this.mask] = 0;
    this.outstanding--;
    this.expired++;
  }

  /** The number of places (for tests and figures). */
  get places(): number {
    return this.mask + 1;
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const live = new Int32Array(size);
    const owners = new Float64Array(size);
    const issued = new Float64Array(size);
    const mask = size - 1;
    for (let i = 0; i <= this.mask; i++) {
      const token = this.live[i];
      if (token === 0) continue;
      const place = token & mask; // distinct places stay distinct in a larger table
      live[place] = token;
      owners[place] = this.owners[i];
      issued[place] = this.issued[i];
    }
    this.live = live;
    this.owners = owners;
    this.issued = issued;
    this.mask = mask;
  }
}
