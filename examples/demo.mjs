// npm run demo: a breaker in front of a backend that goes down for 20 s, in virtual time.
// 200 requests/s arrive; from t = 10 s to t = 30 s every backend call fails. Watch the breaker
// shed the load that would have hit the sick backend, keep probing it, and let traffic back in.
import { Breaker } from "../dist/index.js";

const RATE = 200; // requests per second offered
const OUTAGE = [10_000, 30_000]; // ms
const END = 45_000;
const ROW = 2_500; // ms per printed row

let now = 0;
const breaker = new Breaker({ now: () => now, seed: 2024 });
const backendDown = (t) => t >= OUTAGE[0] && t < OUTAGE[1];

console.log(`breakerbox demo — adaptive (go-zero) policy on the ${breaker.engine} engine`);
console.log(`${RATE} req/s offered; the backend fails every call from ${OUTAGE[0] / 1000} s to ${OUTAGE[1] / 1000} s\n`);
console.log("    time | offered | passed | dropped | backend failures | drop ratio");
console.log("---------|---------|--------|---------|------------------|-----------");

let row = { offered: 0, passed: 0, dropped: 0, failed: 0 };
const totals = { outageCalls: 0, outageOffered: 0 };
for (let i = 0; now < END; i++) {
  now = Math.floor((i * 1000) / RATE);
  row.offered++;
  const token = breaker.tryAcquire();
  if (token === 0) {
    row.dropped++;
  } else {
    row.passed++;
    if (backendDown(now)) {
      row.failed++;
      breaker.reject(token, "503 Service Unavailable");
    } else {
      breaker.accept(token);
    }
  }
  if (backendDown(now)) {
    totals.outageOffered++;
    if (token !== 0) totals.outageCalls++;
  }
  if ((now + 1000 / RATE) % ROW < 1000 / RATE) {
    const { dropRatio } = breaker.stats();
    const t = `${((now + 1000 / RATE) / 1000).toFixed(1)} s`;
    console.log(`${t.padStart(8)} | ${String(row.offered).padStart(7)} | ${String(row.passed).padStart(6)} | `
      + `${String(row.dropped).padStart(7)} | ${String(row.failed).padStart(16)} | ${dropRatio.toFixed(3).padStart(10)}`);
    row = { offered: 0, passed: 0, dropped: 0, failed: 0 };
  }
}

const shed = 1 - totals.outageCalls / totals.outageOffered;
console.log(`\nDuring the outage the breaker kept ${(shed * 100).toFixed(1)}% of the offered calls away from the backend.`);
console.log("Last failure reasons:", breaker.stats().reasons);
