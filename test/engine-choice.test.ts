// Engine selection when WebAssembly is missing (as under a CSP without 'wasm-unsafe-eval').
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("engine choice", () => {
  it("'auto' takes wasm when it can compile", async () => {
    const { Breaker } = await import("../src/index.js");
    expect(new Breaker().engine).toBe("wasm");
    expect(new Breaker({ engine: "auto" }).engine).toBe("wasm");
  });

  it("without WebAssembly, 'auto' falls back to the TypeScript engine and 'wasm' throws a clear error", async () => {
    vi.stubGlobal("WebAssembly", undefined);
    const { Breaker, BreakerBox } = await import("../src/index.js");
    const breaker = new Breaker({ engine: "auto" });
    expect(breaker.engine).toBe("js");
    breaker.accept(breaker.tryAcquire());
    expect(breaker.stats().successes).toBe(1);
    expect(new BreakerBox().engine).toBe("js");
    expect(() => new Breaker({ engine: "wasm" })).toThrow(
      /no WebAssembly here.*engine: 'js' or 'auto'/,
    );
  });

  it("when compiling is refused, 'wasm' says why and keeps the cause", async () => {
    const refuse = class {
      constructor() {
        throw new WebAssembly.CompileError("Wasm code generation disallowed by embedder");
      }
    };
    vi.stubGlobal("WebAssembly", {
      ...WebAssembly,
      Module: refuse,
      CompileError: WebAssembly.CompileError,
    });
    const { Breaker } = await import("../src/index.js");
    let error: Error | undefined;
    try {
      new Breaker({ engine: "wasm" });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(/could not be compiled here.*wasm-unsafe-eval/);
    expect((error?.cause as Error | undefined)?.message).toMatch(/disallowed by embedder/);
    expect(new Breaker({ engine: "auto" }).engine).toBe("js");
  });
});
