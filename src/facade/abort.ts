// The context `fn` receives from a `do()` call that can be aborted (a timeout, or a caller's
// signal): its AbortSignal is made on first ask, since an AbortController costs ~2 µs here and
// many functions never look at it.

import type { CallContext } from "./do.js";

export /** The context fn receives when its call can be aborted: its signal is made on first ask. */
class LazyAbort implements CallContext {
  #controller: AbortController | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
