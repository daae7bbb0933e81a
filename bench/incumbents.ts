// The incumbents, set up the way their READMEs show, for the same workloads as breakerbox.
// cockatiel 3.2 and opossum 9 are the versions that run on Node 20 (cockatiel 4 needs Node 22).
import {
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  TimeoutStrategy,
  timeout,
  wrap,
} from "cockatiel";
import CircuitBreaker from "opossum";

export type Incumbent = "cockatiel" | "opossum" | "opossum (timeout off)";
export const INCUMBENTS: Incumbent[] = ["cockatiel", "opossum", "opossum (timeout off)"];

/** Something with an awaited `call(fn)` and a way to force it open and to release its resources. */
export interface Guard {
  call(fn: () => Promise<number>): Promise<number>;
  open(): void;
  dispose(): void;
}

/** cockatiel's breaker behind its timeout policy (1 s, cooperative: the signal is handed to fn). */
export function cockatielWithTimeout(): (fn: () => Promise<number>) => Promise<number> {
  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: 10_000,
    breaker: new ConsecutiveBreaker(5),
  });
  const policy = wrap(timeout(1000, TimeoutStrategy.Cooperative), breaker);
  return (fn) => policy.execute(fn);
}

export function guard(kind: Incumbent, fn: () => Promise<number>): Guard {
  if (kind === "cockatiel") {
    const policy: CircuitBreakerPolicy = circuitBreaker(handleAll, {
      halfOpenAfter: 10_000,
      breaker: new ConsecutiveBreaker(5),
    });
    let isolation: { dispose(): void } | undefined;
    return {
      call: (f) => policy.execute(f),
      open: () => {
        isolation = policy.isolate();
      },
      dispose: () => isolation?.dispose(),
    };
  }
  const breaker = new CircuitBreaker(fn, kind === "opossum" ? {} : { timeout: false });
  return {
    call: () => breaker.fire() as Promise<number>,
    open: () => breaker.open(),
    dispose: () => breaker.shutdown(),
  };
}
