// A chart of one scenario as SVG, written by hand: one panel per policy, requests per second on the
// left axis (offered, passed, dropped, backend failures) and the drop ratio (0–1) on the right.

import type { RunResult, Scenario } from "./simulator.js";

const WIDTH = 920;
const PANEL = 150;
const GAP = 34;
const LEFT = 56;
const RIGHT = 52;
const TOP = 58;

const SERIES = [
  { key: "offered", label: "offered", color: "#9aa5b1", dash: "" },
  { key: "passed", label: "passed to backend", color: "#2f6fde", dash: "" },
  { key: "dropped", label: "dropped by breaker", color: "#e8890c", dash: "" },
  { key: "failures", label: "backend failures", color: "#d0312d", dash: "" },
] as const;

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function chart(scenario: Scenario, runs: RunResult[]): string {
  const height = TOP + runs.length * (PANEL + GAP) + 10;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const seconds = scenario.durationMs / 1000;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
  );
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(
    `<text x="${LEFT}" y="20" font-size="15" font-weight="600">${escapeXml(scenario.title)}</text>`,
  );
  out.push(`<text x="${LEFT}" y="37" fill="#444">${escapeXml(scenario.description)}</text>`);
  let legendX = LEFT;
  for (const s of SERIES) {
    out.push(
      `<line x1="${legendX}" y1="50" x2="${legendX + 18}" y2="50" stroke="${s.color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${legendX + 22}" y="54">${s.label}</text>`);
    legendX += 150;
  }
  out.push(
    `<line x1="${legendX}" y1="50" x2="${legendX + 18}" y2="50" stroke="#222" stroke-width="1.5" stroke-dasharray="4 3"/>`,
  );
  out.push(`<text x="${legendX + 22}" y="54">drop ratio (right axis)</text>`);
  const max = Math.max(
    1,
    ...runs.flatMap((run) => run.bins.map((b) => (b.offered * 1000) / run.binMs)),
  );
  const top = Math.ceil(max / 100) * 100;
  runs.forEach((run, index) => {
    const y0 = TOP + index * (PANEL + GAP) + 16;
    const x = (t: number) => LEFT + (t / seconds) * plotWidth;
    const y = (rate: number) => y0 + PANEL - (rate / top) * PANEL;
    const yRatio = (r: number) => y0 + PANEL - r * PANEL;
    out.push(`<text x="${LEFT}" y="${y0 - 5}" font-weight="600">${escapeXml(run.policy)}</text>`);
    for (const [a, b] of scenario.faults) {
      out.push(
        `<rect x="${x(a / 1000)}" y="${y0}" width="${x(b / 1000) - x(a / 1000)}" height="${PANEL}" fill="#fbe9e7"/>`,
      );
    }
    out.push(
      `<rect x="${LEFT}" y="${y0}" width="${plotWidth}" height="${PANEL}" fill="none" stroke="#ccc"/>`,
    );
    for (let tick = 0; tick <= 4; tick++) {
      const rate = (top * tick) / 4;
      out.push(
        `<text x="${LEFT - 6}" y="${y(rate) + 4}" text-anchor="end" fill="#666">${rate}</text>`,
      );
      out.push(
        `<text x="${WIDTH - RIGHT + 6}" y="${yRatio(tick / 4) + 4}" fill="#666">${(tick / 4).toFixed(2)}</text>`,
      );
    }
    const step = seconds > 60 ? 20 : 10;
    for (let t = 0; t <= seconds; t += step) {
      out.push(
        `<text x="${x(t)}" y="${y0 + PANEL + 13}" text-anchor="middle" fill="#666">${t} s</text>`,
      );
    }
    const perSecond = (count: number) => (count * 1000) / run.binMs;
    for (const s of SERIES) {
      const points = run.bins.map(
        (bin, i) =>
          `${x(((i + 0.5) * run.binMs) / 1000).toFixed(1)},${y(perSecond(bin[s.key])).toFixed(1)}`,
      );
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="1.4" points="${points.join(" ")}"/>`,
      );
    }
    if (run.policy !== "no breaker") {
      const ratio = run.bins.map(
        (bin, i) =>
          `${x(((i + 1) * run.binMs) / 1000).toFixed(1)},${yRatio(bin.dropRatio).toFixed(1)}`,
      );
      out.push(
        `<polyline fill="none" stroke="#222" stroke-width="1.2" stroke-dasharray="4 3" points="${ratio.join(" ")}"/>`,
      );
    }
  });
  out.push(
    `<text x="${WIDTH - RIGHT}" y="${height - 4}" text-anchor="end" fill="#888">requests per second; shaded: fault; npm run demo</text>`,
  );
  out.push("</svg>");
  return out.join("\n");
}
