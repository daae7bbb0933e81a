// The dashboard's page: HTML with no inline script or style, one stylesheet and one script from
// the same origin (so it renders under `default-src 'none'; script-src 'self'; style-src 'self'`),
// no font, no CDN. The script keeps every breaker it is sent in a Map and puts in the DOM only the
// rows on screen (a fixed row height, rows placed by transform), so 100,000 breakers scroll.

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page, for `base` (the dashboard's path), with this page's CSRF token. */
export function page(o: { title: string; base: string; token: string; writable: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="base" content="${escapeHtml(o.base)}">
<meta name="csrf" content="${escapeHtml(o.token)}">
<meta name="writable" content="${o.writable ? "1" : "0"}">
<title>${escapeHtml(o.title)}</title>
<link rel="icon" href="${escapeHtml(o.base)}/icon.svg">
<link rel="stylesheet" href="${escapeHtml(o.base)}/app.css">
<script src="${escapeHtml(o.base)}/app.js" defer></script>
</head>
<body>
<header>
  <h1>${escapeHtml(o.title)}</h1>
  <div id="totals" role="status" aria-live="polite">connecting…</div>
  <label>Search <input id="search" type="search" placeholder="key or box" autocomplete="off"></label>
  <span id="mode">${o.writable ? "control enabled" : "read-only"}</span>
</header>
<main>
  <div class="head" role="row">
    <span>box</span><span>key</span><span>state</span><span>requests</span><span>failures</span>
    <span>drops</span><span>drop ratio</span><span>since</span><span>trend</span><span>last reasons</span><span>actions</span>
  </div>
  <div id="list" role="table" aria-label="breakers, most troubled first" tabindex="0"><div id="spacer"></div></div>
</main>
<aside><h2>Events</h2><ol id="feed"></ol></aside>
</body>
</html>
`;
}

export const APP_CSS = `
:root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #57606a; font-family: system-ui, sans-serif; }
body { margin: 0; display: grid; grid-template-columns: 1fr 16rem; grid-template-rows: auto 1fr; height: 100vh; }
header { grid-column: 1 / 3; display: flex; gap: 1.5rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid #d0d7de; }
h1 { font-size: 1.1rem; margin: 0; } h2 { font-size: 1rem; }
main { overflow: hidden; display: flex; flex-direction: column; }
.head, .row { display: grid; grid-template-columns: 5rem minmax(6rem, 1fr) 6.5rem 4.5rem 4.5rem 4rem 4.5rem 4rem 4.5rem 8rem 12rem; gap: .4rem; align-items: center; padding: 0 .75rem; height: 30px; font-size: .8rem; }
.row[hidden] { display: none; }
.head span:nth-child(n+4):nth-child(-n+7), .row span:nth-child(n+4):nth-child(-n+7) { text-align: right; }
.head { font-weight: 600; border-bottom: 1px solid #d0d7de; }
#list { position: relative; overflow-y: auto; flex: 1; }
#spacer { width: 1px; }
.row { position: absolute; left: 0; right: 0; top: 0; border-bottom: 1px solid #eaeef2; white-space: nowrap; }
.row span { overflow: hidden; text-overflow: ellipsis; }
.state { font-weight: 600; }
.state.closed { color: var(--ok); } .state.half-open, .state.metrics-only, .state.disabled { color: var(--warn); }
.state.open, .state.forced-open, .state.isolated { color: var(--bad); }
.state::before { content: "● "; }
.state.open::before, .state.forced-open::before, .state.isolated::before { content: "■ "; }
.state.half-open::before { content: "◐ "; }
button { font-size: .75rem; margin-right: .2rem; }
aside { border-left: 1px solid #d0d7de; padding: 0 1rem; overflow-y: auto; font-size: .85rem; }
#feed { padding-left: 1.2rem; } #mode { color: var(--muted); }
svg.spark { width: 4.5rem; height: 22px; } svg.spark polyline { fill: none; stroke-width: 1.5; }
.spark .r { stroke: #0969da; } .spark .f { stroke: var(--bad); } .spark .d { stroke: var(--warn); }
`;

// The page's script, plain ES2020 (no build step): sent as is.
export const APP_JS = `"use strict";
(() => {
  const meta = (name) => document.querySelector('meta[name="' + name + '"]').content;
  const base = meta("base"), token = meta("csrf"), writable = meta("writable") === "1";
  const ROW = 30, HISTORY = 120, SPAN = 5 * 60 * 1000;
  const rows = new Map();
  let order = [], dirty = true, scheduled = false, marked = false;
  const list = document.getElementById("list"), spacer = document.getElementById("spacer");
  const search = document.getElementById("search"), totals = document.getElementById("totals");
  const feed = document.getElementById("feed");
  const pool = [];
  const BAD = new Set(["open", "forced-open", "isolated"]);
  const rank = (r) => (BAD.has(r.state) ? 0 : r.state === "half-open" ? 1 : 2);
  const trouble = (a, b) => rank(a) - rank(b) || b.ratio - a.ratio || b.failures - a.failures || (a.key < b.key ? -1 : 1);

  function note(text) {
    const item = document.createElement("li");
    item.textContent = new Date().toLocaleTimeString() + " " + text;
    feed.prepend(item);
    while (feed.children.length > 50) feed.lastChild.remove();
  }

  function apply(row, quiet) {
    const [box, key, state, requests, successes, failures, drops, ratio, changedAt, reasons] = row;
    const id = box + "\\u0000" + key;
    let r = rows.get(id);
    if (r === undefined) {
      r = { id, box, key, history: [] };
      rows.set(id, r);
    } else if (!quiet && r.state !== state) note(box + " / " + key + ": " + r.state + " → " + state);
    Object.assign(r, { state, requests, successes, failures, drops, ratio, changedAt, reasons });
    r.history.push([Date.now(), requests, failures, drops]);
    while (r.history.length > HISTORY || (r.history.length > 1 && r.history[1][0] < Date.now() - SPAN)) r.history.shift();
  }

  // The last SPAN ms on a time axis: a figure holds its value until it changes, so only changes
  // are kept (a breaker that does not move costs nothing), and the line runs on to now.
  function spark(history) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 60 22");
    svg.setAttribute("aria-hidden", "true");
    const now = Date.now(), from = now - SPAN;
    const max = Math.max(1, ...history.map((h) => h[1]));
    const x = (t) => (Math.max(0, t - from) / SPAN * 60).toFixed(1);
    ["r", "f", "d"].forEach((cls, k) => {
      const points = [];
      history.forEach((h, i) => {
        const y = (21 - (h[k + 1] / max) * 20).toFixed(1);
        points.push(x(h[0]) + "," + y);
        const end = i + 1 < history.length ? history[i + 1][0] : now;
        points.push(x(end) + "," + y);
      });
      const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
      line.setAttribute("class", cls);
      line.setAttribute("points", points.join(" "));
      svg.append(line);
    });
    return svg;
  }

  function since(ms) {
    if (ms === null || ms === undefined) return "—";
    const s = Math.max(0, (Date.now() - ms) / 1000);
    return s < 60 ? s.toFixed(0) + " s" : s < 3600 ? (s / 60).toFixed(0) + " min" : (s / 3600).toFixed(1) + " h";
  }

  function act(r, action) {
    fetch(base + "/action", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": token },
      body: JSON.stringify({ box: r.box, key: r.key, action }),
    }).then((res) => res.text().then((text) => note(action + " " + r.key + ": " + (res.ok ? "done" : res.status + " " + text))));
  }

  function cell(text, cls) {
    const span = document.createElement("span");
    span.textContent = text;
    if (cls) span.className = cls;
    return span;
  }

  function draw() {
    scheduled = false;
    if (dirty) {
      const q = search.value.trim().toLowerCase();
      order = [...rows.values()].filter((r) => q === "" || r.key.toLowerCase().includes(q) || r.box.toLowerCase().includes(q));
      order.sort(trouble);
      const byBox = new Map();
      for (const r of rows.values()) {
        const t = byBox.get(r.box) || { n: 0, open: 0, shedding: 0 };
        t.n++;
        if (BAD.has(r.state)) t.open++;
        if (r.ratio > 0 && r.ratio < 1) t.shedding++;
        byBox.set(r.box, t);
      }
      totals.textContent = [...byBox].map(([b, t]) => b + ": " + t.n + " breakers, " + t.open + " open, " + t.shedding + " shedding").join(" · ") + (q ? " · " + order.length + " shown" : "");
      spacer.style.height = order.length * ROW + "px";
      dirty = false;
    }
    if (!marked && order.length > 0) {
      marked = true;
      requestAnimationFrame(() => performance.mark("breakerbox:first-rows"));
    }
    const first = Math.floor(list.scrollTop / ROW);
    const count = Math.ceil(list.clientHeight / ROW) + 2;
    const visible = order.slice(first, first + count);
    while (pool.length < visible.length) {
      const el = document.createElement("div");
      el.className = "row";
      el.setAttribute("role", "row");
      list.append(el);
      pool.push(el);
    }
    pool.forEach((el, i) => {
      const r = visible[i];
      if (r === undefined) {
        el.hidden = true;
        return;
      }
      el.hidden = false;
      el.style.transform = "translateY(" + (first + i) * ROW + "px)";
      el.dataset.key = r.key;
      el.replaceChildren(
        cell(r.box),
        cell(r.key || "(empty key)"),
        cell(r.state, "state " + r.state),
        cell(String(r.requests)),
        cell(String(r.failures)),
        cell(String(r.drops)),
        cell(r.ratio.toFixed(3)),
        cell(since(r.changedAt)),
        spark(r.history),
        cell(r.reasons.join(" · ")),
        actions(r),
      );
    });
  }

  function actions(r) {
    const span = document.createElement("span");
    if (!writable) return span;
    for (const [action, label] of [["force-open", "Open"], ["force-close", "Close"], ["reset", "Reset"], ["isolate", "Isolate"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.dataset.action = action;
      button.setAttribute("aria-label", label + " " + r.key);
      button.addEventListener("click", () => act(r, action));
      span.append(button);
    }
    return span;
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(draw);
    }
  }

  search.addEventListener("input", () => { dirty = true; list.scrollTop = 0; schedule(); });
  list.addEventListener("scroll", schedule);
  window.addEventListener("resize", schedule);
  const events = new EventSource(base + "/events");
  events.onmessage = (message) => {
    const m = JSON.parse(message.data);
    if (m.type === "hello") {
      rows.clear();
      for (const row of m.rows) apply(row, true);
      note("connected: " + m.boxes.join(", "));
    } else if (m.type === "rows") {
      for (const row of m.rows) apply(row, false);
    } else if (m.type === "action") {
      note(m.action + " " + m.box + " / " + m.key);
    }
    dirty = true;
    schedule();
  };
  events.onerror = () => { totals.textContent = "disconnected: retrying…"; };
})();
`;

/** The page's icon: a breaker, in the page's red. */
export const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="3" y="1" width="10" height="14" rx="2" fill="#cf222e"/><rect x="6" y="4" width="4" height="5" fill="#fff"/></svg>';
