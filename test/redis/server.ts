// The cluster tests' redis-server (bench/redis-server.mjs, shared with the cluster bench).
// @ts-expect-error: a plain ES module without types
import { haveRedisServer, startRedisServer } from "../../bench/redis-server.mjs";

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

export const haveRedis: boolean = haveRedisServer;
if (!haveRedis && process.env.CI) {
  throw new Error("redis-server is missing: .ci/run installs it (apt-get install redis-server)");
}
if (!haveRedis) {
  console.log("skipping the cluster tests: no redis-server here (apt-get install redis-server)");
}

export const startRedis: () => Promise<RedisServer> = startRedisServer;
