// A real redis-server for the cluster tests: started on a free port, paused, killed and restarted
// at will, stopped after. Outside CI a machine without redis-server skips those tests (saying how
// to install it); in CI (.ci/run sets CI) a missing redis-server fails them.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

export const haveRedis = spawnSync("redis-server", ["--version"]).status === 0;
if (!haveRedis && process.env.CI) {
  throw new Error("redis-server is missing: .ci/run installs it (apt-get install redis-server)");
}
if (!haveRedis) {
  console.log("skipping the cluster tests: no redis-server here (apt-get install redis-server)");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  /** SIGSTOP: the server stops answering, connections stay open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Kills it and starts a new, empty one on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess;
  const launch = () =>
    new Promise<void>((resolve, reject) => {
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
      child.stdout?.on("data", (data: Buffer) => {
        out += data;
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
  const kill = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.removeAllListeners("exit");
      child.once("exit", () => resolve());
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    });
  await launch();
  return {
    port,
    pause: () => child.kill("SIGSTOP"),
    resume: () => child.kill("SIGCONT"),
    async restart() {
      await kill();
      await launch();
    },
    stop: kill,
  };
}
