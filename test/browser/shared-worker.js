// A Web Worker of the shared page: attaches to the page's box and settles calls on a key the page
// made and on one of its own.
import { SharedBreakerBox } from "/dist/shared.js";

self.onmessage = ({ data: { handle, id, n } }) => {
  const box = SharedBreakerBox.attach(handle);
  const api = box.get("api");
  const own = box.get(`worker-${id}`);
  let successes = 0;
  let failures = 0;
  for (let i = 0; i < n; i++) {
    const token = api.tryAcquire();
    if (token === 0) continue;
    if (i % 10 === id) {
      api.reject(token);
      failures++;
    } else {
      api.accept(token);
      successes++;
    }
    own.accept(own.tryAcquire());
  }
  postMessage({ successes, failures });
};
