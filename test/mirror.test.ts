// The TypeScript engine mirrors the AssemblyScript core file for file and function for function,
// in the same order, so that a diff of the two shows only types and accessors.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url);
const functions = (path: string) =>
  [...readFileSync(new URL(path, root), "utf8").matchAll(/^export function (\w+)/gm)].map(
    (m) => m[1],
  );

describe("mirror", () => {
  const files = readdirSync(new URL("assembly/", root)).filter((f) => f !== "index.ts");

  it("every core file has its TypeScript twin, and no more", () => {
    const twins = readdirSync(new URL("src/engine-js/", root)).filter((f) => f !== "index.ts");
    expect(twins.sort()).toEqual(files.sort());
  });

  it.each(files)("%s exports the same functions in the same order", (file) => {
    const core = functions(`assembly/${file}`);
    expect(core.length).toBeGreaterThan(0);
    expect(functions(`src/engine-js/${file}`)).toEqual(core);
  });

  it("both engines export the same operations", () => {
    const exported = (path: string) =>
      [...readFileSync(new URL(path, root), "utf8").matchAll(/export \{([^}]*)\}/g)]
        .flatMap((m) =>
          m[1]
            .split(",")
            .map((name) => name.trim())
            .filter(Boolean),
        )
        .concat(functions(path));
    const core = exported("assembly/index.ts");
    // The threads build exports the same operations, each under its slot's lock.
    expect(new Set(exported("assembly/threads.ts"))).toEqual(new Set(core));
    const js = [
      ...readFileSync(new URL("src/engine-js/index.ts", root), "utf8").matchAll(/^\s+(\w+): \(/gm),
    ]
      .map((m) => m[1])
      .filter((name) => name !== "buffer"); // the engine's own member, not a core operation
    expect(new Set(js)).toEqual(new Set(core));
    expect(core.length).toBeGreaterThanOrEqual(13);
  });
});
