// Numeric permits for the zero-allocation path. A token is a sequence number; the table remembers
// which numbers are outstanding, and for each the slot and the slot's generation when it was issued
// (one f64: slot · 2^16 + generation). Settling retires the number, so a stale or doubled
// settlement finds nothing and changes nothing.
//
// The table is open addressing without probing: token t lives at t & mask. Issuing onto a taken
// place doubles the table (rare: it needs as many outstanding permits as places), so a live permit
// is never overwritten. Tokens stay in [1, 2^30): positive Smis, never boxed; 0 means "dropped".

const TOKEN_MASK = 0x3fffffff;
/** Permits that may be outstanding at once in one box. */
export const MAX_PERMITS = 1 << 24;

export class Permits {
  private live = new Int32Array(64);
  private owners = new Float64Array(64);
  private issued = new Float64Array(64);
  private mask = 63;
  private sequence = 0;
  /** Set by `redeem`: the generation of the permit it retired, and the time it was issued. */
  generation = 0;
  issuedAt = 0;

  /** A new outstanding token for `slot`, whose generation is `generation`, issued at `issuedAt`. */
  issue(slot: number, generation: number, issuedAt: number): number {
    const token = (this.sequence + 1) & TOKEN_MASK || 1;
    const place = token & this.mask;
    if (this.live[place] !== 0) return this.issueAfterCollision(slot, generation, issuedAt, token);
    this.sequence = token;
    this.live[place] = token;
    this.owners[place] = slot * 65536 + generation;
    this.issued[place] = issuedAt;
    return token;
  }

  /** issue() when the token's place is taken: kept apart so that issue() stays small enough to inline. */
  private issueAfterCollision(
    slot: number,
    generation: number,
    issuedAt: number,
    first: number,
  ): number {
    let token = first;
    let place = token & this.mask;
    while (this.live[place] !== 0) {
      if (this.live[place] === token)
        token = (token + 1) & TOKEN_MASK || 1; // still out after 2^30 issues: skip it
      else this.grow();
      place = token & this.mask;
    }
    this.sequence = token;
    this.live[place] = token;
    this.owners[place] = slot * 65536 + generation;
    this.issued[place] = issuedAt;
    return token;
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
    this.generation = owner;
    this.issuedAt = this.issued[place];
    return true;
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    if (size > MAX_PERMITS) {
      throw new RangeError(
        `breakerbox: ${MAX_PERMITS} permits are outstanding in one box; settle every token with accept() or reject()`,
      );
    }
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
