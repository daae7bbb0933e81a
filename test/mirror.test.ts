// The TypeScript engine mirrors the AssemblyScript core file for file and function for function,
// in the same order and with the same parameters, so that a diff of the two shows only types and
// accessors. The normaliser that reads both is tested first: a mirror test that cannot fail
// proves nothing.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url);

/**
 * Each exported function of a core source as "name(param, …)", in order. Types are dropped, and
 * so is the TypeScript twin's leading `m` (the views AssemblyScript reaches through load/store).
 */
function signatures(source: string): string[] {
  return [...source.matchAll(/^export function (\w+)\(([^)]*)\)/gm)].map(([, name, list]) => {
    const params = list
      .split(",")
      .map((param) => param.split(":")[0].trim())
      .filter((param) => param !== "" && param !== "m");
    return `${name}(${params.join(", ")})`;
  });
}

const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("the mirror's normaliser", () => {
  const core =
    "export function record(slot: u32, generation: u32, now: f64): i32 {\n}\nfunction helper(): void {}\n";
  const twin =
    "export function record(m: Views, slot: number, generation: number, now: number): number {\n}\n";

  it("reads names and parameters, without types or the twin's views", () => {
    expect(signatures(core)).toEqual(["record(slot, generation, now)"]);
    expect(signatures(twin)).toEqual(signatures(core));
  });

  it("tells a renamed, reordered, missing or extra parameter or function", () => {
    expect(signatures(twin.replace("generation", "gen"))).not.toEqual(signatures(core));
    expect(
      signatures(
        twin.replace("slot: number, generation: number", "generation: number, slot: number"),
      ),
    ).not.toEqual(signatures(core));
    expect(signatures(twin.replace(", now: number", ""))).not.toEqual(signatures(core));
    expect(signatures(`${twin}export function extra(m: Views): void {}\n`)).not.toEqual(
      signatures(core),
    );
    expect(signatures(twin.replace("record", "recordIt"))).not.toEqual(signatures(core));
  });
});

describe("mirror", () => {
  const files = readdirSync(new URL("assembly/", root)).filter((f) => f !== "index.ts");

  it("every core file has its TypeScript twin, and no more", () => {
    const twins = readdirSync(new URL("src/engine-js/", root)).filter((f) => f !== "index.ts");
    expect(twins.sort()).toEqual(files.sort());
    expect(files).toContain("threads.ts"); // the threads build's operations, each under its slot's lock
  });

  it.each(files)(
    "%s exports the same functions, in the same order, with the same parameters",
    (file) => {
      const core = signatures(read(`assembly/${file}`));
      expect(core.length).toBeGreaterThan(0);
      expect(signatures(read(`src/engine-js/${file}`))).toEqual(core);
    },
  );

  it("both engines export the same operations, and the threads build all of them", () => {
    const exported = (path: string) =>
      [...read(path).matchAll(/export \{([^}]*)\}/g)]
        .flatMap((m) =>
          m[1]
            .split(",")
            .map((name) => name.trim())
            .filter(Boolean),
        )
        .concat(signatures(read(path)).map((s) => s.slice(0, s.indexOf("("))));
    const core = exported("assembly/index.ts");
    expect(new Set(exported("assembly/threads.ts"))).toEqual(new Set(core));
    const js = [...read("src/engine-js/index.ts").matchAll(/^\s+(\w+): \(/gm)]
      .map((m) => m[1])
      .filter((name) => name !== "buffer"); // the engine's own member, not a core operation
    expect(new Set(js)).toEqual(new Set(core));
    expect(core.length).toBeGreaterThanOrEqual(13);
  });
});
