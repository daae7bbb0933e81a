// npm run example:gateway — a tiny gateway in front of a flaky upstream, both on 127.0.0.1.
// The upstream fails every call from 4 s to 10 s. A load generator sends 100 requests/s to the
// gateway for 14 s; the gateway calls the upstream through breakerbox's fetch wrapper and answers
// 503 when the breaker drops the call. Each second it prints what happened.
import { createServer } from "node:http";
import { BreakerBox, isBreakerOpenError } from "breakerbox";
import { breakerFetch } from "breakerbox/http";

const listen = (server) =>
  new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)),
  );
const started = Date.now();
const upstreamDown = () => {
  const t = Date.now() - started;
  return t >= 4000 && t < 10_000;
};

const counts = { ok: 0, dropped: 0, upstreamFailed: 0, upstreamCalls: 0 };
const upstream = createServer((_req, res) => {
  counts.upstreamCalls++;
  res.statusCode = upstreamDown() ? 500 : 200;
  res.end("hello from upstream");
});
const upstreamUrl = await listen(upstream);

const box = new BreakerBox(); // adaptive, fast recovery: go-zero's breaker, healing within a probe
const upstreamFetch = breakerFetch(box);
const gateway = createServer(async (_req, res) => {
  try {
    const response = await upstreamFetch(`${upstreamUrl}/hello`);
    if (response.status >= 500) counts.upstreamFailed++;
    else counts.ok++;
    res.statusCode = response.status;
    res.end(await response.text());
  } catch (error) {
    if (isBreakerOpenError(error)) {
      counts.dropped++;
      res.statusCode = 503; // shed at the gateway: the upstream never sees it
    } else {
      counts.upstreamFailed++; // a network error: counted by the breaker as a failure too
      res.statusCode = 502;
    }
    res.end();
  }
});
const gatewayUrl = await listen(gateway);

console.log(
  `upstream ${upstreamUrl} (down from 4 s to 10 s), gateway ${gatewayUrl}, 100 requests/s for 14 s\n`,
);
console.log(
  "second | answered 2xx | dropped by breaker (503) | upstream failed (500) | calls reaching upstream",
);
const load = setInterval(() => {
  fetch(`${gatewayUrl}/`)
    .then((r) => r.arrayBuffer())
    .catch(() => {});
}, 10);
let second = 0;
const tick = setInterval(() => {
  second++;
  console.log(
    `${String(second).padStart(6)} | ${String(counts.ok).padStart(12)} | ${String(counts.dropped).padStart(24)} | ` +
      `${String(counts.upstreamFailed).padStart(21)} | ${String(counts.upstreamCalls).padStart(23)}`,
  );
  Object.assign(counts, { ok: 0, dropped: 0, upstreamFailed: 0, upstreamCalls: 0 });
  if (second === 14) {
    clearInterval(load);
    clearInterval(tick);
    setTimeout(() => {
      // let the last requests finish, then stop both servers
      gateway.closeAllConnections();
      upstream.closeAllConnections();
      gateway.close();
      upstream.close();
    }, 200);
  }
}, 1000);
