// Runs in the page: the same replayable scenario on both engines, plus the facade's basics.
// Imported by the test pages as a module; `lib` is the package's ESM entry, `engines` the two to compare.
export async function scenario(lib, engines = ["wasm", "js"]) {
  const { Breaker, BreakerBox, isBreakerOpenError } = lib;
  const decisions = (engine) => {
    let t = 0;
    const b = new Breaker({ engine, now: () => t, seed: 5, recovery: "go-zero" });
    const out = [];
    for (let i = 0; i < 3000; i++) {
      t = i * 7;
      const token = b.tryAcquire();
      out.push(token === 0 ? 0 : 1);
      if (token !== 0) i % 3 === 0 ? b.accept(token) : b.reject(token, "boom");
    }
    return { decisions: out.join(""), stats: b.stats() };
  };
  const result = { auto: new Breaker().engine };
  const wasm = decisions(engines[0]);
  const js = decisions(engines[1]);
  result.sameDecisions = wasm.decisions === js.decisions;
  result.drops = wasm.decisions.split("0").length - 1;
  result.sameStats =
    JSON.stringify({ ...wasm.stats, engine: 0 }) === JSON.stringify({ ...js.stats, engine: 0 });
  const b = new Breaker({ trip: { consecutiveFailures: 2 } });
  result.doValue = b.do(() => 42);
  result.asyncValue = await b.do(async () => "async");
  b.reject(b.tryAcquire());
  b.reject(b.tryAcquire());
  try {
    await b.do(async () => 1);
  } catch (error) {
    result.openError = isBreakerOpenError(error) && error.message;
  }
  const box = new BreakerBox();
  for (let i = 0; i < 1000; i++) box.get(`k${i}`).accept(box.get(`k${i}`).tryAcquire());
  result.boxSize = box.size;
  result.swept = box.stats().filter((s) => s.successes === 1).length;
  return result;
}
