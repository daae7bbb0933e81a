// The deadlines of one box's calls in flight (`do()` with `timeoutMs`), served by at most one
// unref'd timer: a binary min-heap by deadline, whose earliest deadline the timer is set for. A
// call that settles first is marked done and left in the heap until its deadline comes up (lazy
// deletion); when no call is left in flight the heap is emptied, and the timer, left to run out,
// sets no other: an idle box holds no timer past the last deadline it had. Times are `Date.now()`
// (the clock timers run on, fake or real).

/** A call waiting for its deadline. */
export interface Waiting {
  /** When it times out, ms since the Unix epoch. */
  readonly at: number;
  /** Set once it settled, or timed out. */
  done: boolean;
  /** Called at the deadline, unless done. */
  expire(): void;
}

export class Deadlines {
  readonly #heap: Waiting[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #armedAt = Number.POSITIVE_INFINITY;
  /** Calls in the heap not yet done. */
  #live = 0;

  /** Adds a call that times out at `waiting.at`. */
  add(waiting: Waiting): void {
    const heap = this.#heap;
    heap.push(waiting);
    for (let at = heap.length - 1; at > 0; ) {
      const parent = (at - 1) >> 1;
      if (heap[parent].at <= heap[at].at) break;
      [heap[parent], heap[at]] = [heap[at], heap[parent]];
      at = parent;
    }
    this.#live++;
    if (waiting.at < this.#armedAt) this.#arm(waiting.at);
  }

  /**
   * A call of the heap settled (or timed out). Once none is left the heap is emptied; the timer is
   * left to run out (clearing and setting one per call would cost more than the call), and then
   * finds nothing to do and sets no other.
   */
  settled(waiting: Waiting): void {
    waiting.done = true;
    if (--this.#live === 0) this.#heap.length = 0;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedAt = at;
    const timer = setTimeout(() => this.#fire(), Math.max(0, at - Date.now()));
    (timer as { unref?(): void }).unref?.();
    this.#timer = timer;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const heap = this.#heap;
    while (heap.length > 0 && (heap[0].at <= now || heap[0].done)) {
      const waiting = this.#pop();
      if (!waiting.done) waiting.expire(); // expire() reports it settled
    }
    if (heap.length > 0) this.#arm(heap[0].at);
  }

  #pop(): Waiting {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop() as Waiting;
    if (heap.length > 0) {
      heap[0] = last;
      for (let at = 0; ; ) {
        const left = 2 * at + 1;
        const right = left + 1;
        let least = at;
        if (left < heap.length && heap[left].at < heap[least].at) least = left;
        if (right < heap.length && heap[right].at < heap[least].at) least = right;
        if (least === at) break;
        [heap[least], heap[at]] = [heap[at], heap[least]];
        at = least;
      }
    }
    return top;
  }
}
