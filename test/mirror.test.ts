// The TypeScript engine mirrors the AssemblyScript core file for file and function for function,
// in the same order, so that a diff of the two shows only types and accessors.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url);
const functions = (path: string) =>
  [...readFileSync(new URL(path, root), "utf8").matchAll(/^export function (\w+)/gm)].map((m) => m[1]);

describe("mirror", () => {
  const files = readdirSync(new URL("assembly/", root)).filter((f) => f !== "index.ts");

  it("every core file has its TypeScript twin, and no more", () => {
    const twins = readdirSync(new URL("src/engine-js/", root)).filter((f) => f !== "index.ts" && f !== "memory.ts");
    expect(twins.sort()).toEqual(files.sort());
  });

  it.each(files)("%s exports the same functions in the same order", (file) => {
    const core = functions(`assembly/${file}`);
    expect(core.length).toBeGreaterThan(0);
    expect(functions(`src/engine-js/${file}`)).toEqual(core);
  });

  it("both engines export the same operations", () => {
    const names = (text: string) => [...text.matchAll(/\b(initAdaptive|allowAdaptive|recordAdaptive|dropProbability|countDropping)\b/g)].map((m) => m[1]);
    const core = new Set(names(readFileSync(new URL("assembly/index.ts", root), "utf8")));
    const js = new Set(names(readFileSync(new URL("src/engine-js/index.ts", root), "utf8")));
    expect(js).toEqual(core);
    expect(core.size).toBe(5);
  });
});
