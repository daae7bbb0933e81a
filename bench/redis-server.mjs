// A real redis-server for the cluster tests and the cluster bench: started on a free port, paused,
// killed and restarted at will, stopped after. Outside CI a machine without redis-server skips
// the cluster tests (saying how to install it); in CI (.ci/run sets CI) they fail without it.

import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

/** Whether redis-server can be started here. */
export const haveRedisServer = spawnSync("redis-server", ["--version"]).status === 0;

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server on a free port, without persistence.
 * @returns {Promise<{ port: number, version: string, pause(): void, resume(): void,
 *   restart(): Promise<void>, stop(): Promise<void> }>}
 */
export async function startRedisServer() {
  const port = await freePort();
  const version = /v=([\d.]+)/.exec(spawnSync("redis-server", ["--version"]).stdout)?.[1] ?? "?";
  /** @type {import("node:child_process").ChildProcess} */
  let child;
  const launch = () =>
    new Promise((resolve, reject) => {
      child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start: ${out}`)),
        10_000,
      );
      child.stdout.on("data", (data) => {
        out += data;
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve(undefined);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
  const kill = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
      child.removeAllListeners("exit");
      child.once("exit", () => resolve(undefined));
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    });
  await launch();
  return {
    port,
    version,
    /** SIGSTOP: the server stops answering, connections stay open. */
    pause: () => child.kill("SIGSTOP"),
    /** SIGCONT. */
    resume: () => child.kill("SIGCONT"),
    /** Kills it and starts a new, empty one on the same port. */
    async restart() {
      await kill();
      await launch();
    },
    stop: kill,
  };
}
