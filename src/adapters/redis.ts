// breakerbox/redis: a box's breakers shared by a gateway's instances through Redis or Valkey.
//
// Decisions stay local: no call waits on Redis. Every `syncMs` one script (EVALSHA) per instance
// sends, for the keys whose lifetime totals moved since the last sync, the successes and failures
// counted since, and reads back what the other instances counted: those counts are merged into
// the local breakers (`breaker.merge`), so every instance's windows hold the cluster's calls, and
// its adaptive drop ratios and ratio trips are the cluster's. A breaker that opens publishes its
// open time; the others adopt it on their next sync (`breaker.trip`). Before an open breaker goes
// half-open, it takes a probe lease (SET NX PX): only the holder probes, the others stay open.
// Redis down, stalled or flushed: every instance goes on deciding alone, and says so.
//
// Redis keys, all under `<prefix>:{<name>}:` (one hash tag: one Redis Cluster slot), then a hash
// of the breaker key (any string is a key; none reaches a script as code):
//   …:<h>:b:<bucket>  a hash {s, f}: the cluster's successes and failures in that time bucket
//                     (server time), expiring after 3 buckets
//   …:<h>:o           the time (server ms) until which the breaker is open, expiring then
//   …:<h>:l           the probe lease: the instance that may probe, expiring after `probeLeaseMs`

import { createHash, randomUUID } from "node:crypto";
import type { BreakerBox } from "../facade/box.js";
import type { Breaker } from "../facade/breaker.js";

/** What breakerbox/redis needs of a client: ioredis and iovalkey have it. */
export interface RedisLike {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export interface ClusterOptions {
  /** A connected ioredis or iovalkey client; breakerbox never closes it. AUTH and TLS are its own. */
  redis: RedisLike;
  /** The cluster: instances with the same name (and prefix) share their breakers. */
  name: string;
  /** How often an instance syncs, ms. Default 100. */
  syncMs?: number;
  /** Prefix of every Redis key. Default 'breakerbox'. */
  prefix?: string;
  /** How long the probe lease of a healing breaker lasts, ms. Default 5000. */
  probeLeaseMs?: number;
  /** A sync unanswered this long marks the cluster down, ms. Default max(1000, 10 × syncMs). */
  downAfterMs?: number;
  /** The most keys one sync carries (the rest go in the next). Default 5000. */
  maxKeysPerSync?: number;
}

/** How the cluster looks from this instance. */
export interface ClusterStats {
  /** False from a sync that failed or went unanswered for `downAfterMs`, until one succeeds. */
  up: boolean;
  /** Syncs that succeeded, and those that failed. */
  syncs: number;
  errors: number;
  /** The last error's message, if any. */
  lastError: string | undefined;
  /** When the last sync succeeded (Date.now() ms; 0: never), and how long its round trip took. */
  lastSyncAt: number;
  lagMs: number;
  /** Keys the last sync carried. */
  keys: number;
}

export type ClusterEvent = "cluster-down" | "cluster-up";

/** A manual state set for the whole cluster. */
type ManualState = "open" | "isolated" | "closed";

/** A box's membership of a cluster. */
export interface ClusterHandle {
  /** This instance's id in the cluster (the holder of its probe leases). */
  readonly id: string;
  readonly stats: Readonly<ClusterStats>;
  /**
   * Cluster-wide manual states of a three-state breaker: applied here at once, and by every other
   * instance at its next sync of the key (until `forceClose`; kept by Redis for a day).
   * `forceOpen` rejects every call, `isolate` too (as `breaker.isolate()`), `forceClose` closes
   * the breaker everywhere and ends both.
   */
  forceOpen(key: string): void;
  isolate(key: string): void;
  forceClose(key: string): void;
  /** Listens for `cluster-down` and `cluster-up`; returns the function that stops listening. */
  on(event: ClusterEvent, listener: (error?: unknown) => void): () => void;
  /** Sends what is pending, then leaves: no more syncs. The client stays open. */
  close(): Promise<void>;
}

/** Fields per key in a sync's arguments, and in its reply. */
const ARGS_PER_KEY = 7;
const REPLY_PER_KEY = 7;
const BUCKET_MS = 1000;

// ARGV: base, bucketMs, instance, n, then per key: hash, successes, failures, openMs (publish
// "open for that long"; 0: nothing), leaseMs (ask the probe lease for that long; 0: no), closed
// ("1": the breaker closed: the open time and the lease go), manual ("open", "isolated" or
// "closed": a manual state for the whole cluster; "": none). Replies: server now, bucket, then
// per key: successes and failures of this bucket and the previous one (the cluster's), the open
// time left (ms, 0: not open), whether this instance holds the lease, and the cluster's manual
// state as "<sequence>:<state>" ("": none).
const SCRIPT = `
local base = ARGV[1]
local bucketMs = tonumber(ARGV[2])
local me = ARGV[3]
local n = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local bucket = math.floor(now / bucketMs)
local out = { now, bucket }
for i = 0, n - 1 do
  local at = 5 + i * ${ARGS_PER_KEY}
  local key = base .. ARGV[at]
  local ds = tonumber(ARGV[at + 1])
  local df = tonumber(ARGV[at + 2])
  local openMs = tonumber(ARGV[at + 3])
  local leaseMs = tonumber(ARGV[at + 4])
  local current = key .. ':b:' .. bucket
  if ds > 0 then redis.call('HINCRBY', current, 's', ds) end
  if df > 0 then redis.call('HINCRBY', current, 'f', df) end
  if ds > 0 or df > 0 then redis.call('PEXPIRE', current, bucketMs * 3) end
  local c = redis.call('HMGET', current, 's', 'f')
  local p = redis.call('HMGET', key .. ':b:' .. (bucket - 1), 's', 'f')
  if ARGV[at + 5] == '1' then redis.call('DEL', key .. ':o', key .. ':l') end
  local manual = ARGV[at + 6]
  if manual ~= '' then
    local value = redis.call('INCR', key .. ':ms') .. ':' .. manual
    redis.call('PEXPIRE', key .. ':ms', 86400000)
    redis.call('SET', key .. ':m', value, 'PX', manual == 'closed' and 600000 or 86400000)
  end
  if openMs > 0 then
    local untilMs = now + openMs
    local old = tonumber(redis.call('GET', key .. ':o') or '0') or 0
    if untilMs > old then redis.call('SET', key .. ':o', untilMs, 'PX', openMs) end
  end
  local open = tonumber(redis.call('GET', key .. ':o') or '0') or 0
  local lease = 0
  if leaseMs > 0 then
    if redis.call('SET', key .. ':l', me, 'NX', 'PX', leaseMs) then lease = 1
    elseif redis.call('GET', key .. ':l') == me then lease = 1 end
  end
  out[#out + 1] = tonumber(c[1] or '0') or 0
  out[#out + 1] = tonumber(c[2] or '0') or 0
  out[#out + 1] = tonumber(p[1] or '0') or 0
  out[#out + 1] = tonumber(p[2] or '0') or 0
  out[#out + 1] = math.max(0, open - now)
  out[#out + 1] = lease
  out[#out + 1] = redis.call('GET', key .. ':m') or ''
end
return out
`;
const SCRIPT_SHA = createHash("sha1").update(SCRIPT).digest("hex");

/** What an instance remembers of one key between syncs. */
interface KeyState {
  readonly hash: string;
  /** Lifetime totals already sent. */
  sentSuccesses: number;
  sentFailures: number;
  /** By server bucket: what this instance added there, and the others' counts merged from it. */
  buckets: Map<number, [own: number, ownF: number, seen: number, seenF: number]>;
}

/**
 * Puts `box` into the cluster `name`: see the file's head. Turns on the box's lifetime totals
 * (`countTotals()`), which the syncs read. Returns the membership, whose `close()` leaves.
 */
export function joinCluster(box: BreakerBox, options: ClusterOptions): ClusterHandle {
  const o = checkCluster(box, options);
  box.countTotals();
  const id = randomUUID();
  const base = `${o.prefix}:{${o.name}}:`;
  const keys = new Map<string, KeyState>();
  const opened = new Set<string>(); // opened here since the last sync: to publish
  const closed = new Set<string>(); // closed here after probing since the last sync: to clear
  const openHere = new Set<string>(); // open here now: synced every time, for the probe lease
  const activity = new Map<string, number>(); // each key's calls and rejections when last synced
  const manual = new Map<string, ManualState>(); // manual states set here, to publish
  const applied = new Map<string, number>(); // per key, the sequence of the manual state applied
  const isolations = new Map<string, { release(): void }>(); // cluster isolations held here
  const listeners = new Map<ClusterEvent, Set<(error?: unknown) => void>>();
  const stats: ClusterStats = {
    up: true,
    syncs: 0,
    errors: 0,
    lastError: undefined,
    lastSyncAt: 0,
    lagMs: 0,
    keys: 0,
  };
  const emit = (event: ClusterEvent, error?: unknown) => {
    for (const listener of listeners.get(event) ?? []) {
      try {
        listener(error);
      } catch (thrown) {
        queueMicrotask(() => {
          throw thrown;
        });
      }
    }
  };
  const down = (error: unknown) => {
    stats.lastError = error instanceof Error ? error.message : String(error);
    if (!stats.up) return;
    stats.up = false;
    emit("cluster-down", error);
  };
  const stopListening = box.onStateChange(({ key, from, to }) => {
    if (key === undefined) return;
    if (to === "open") {
      opened.add(key);
      openHere.add(key);
    } else if (to === "closed") {
      openHere.delete(key);
      if (from === "half-open") closed.add(key);
    }
  });

  let inFlight: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (inFlight !== undefined || stopped) return;
    inFlight = sync().finally(() => {
      inFlight = undefined;
    });
  };
  const timer = setInterval(tick, o.syncMs);
  (timer as { unref?: () => void }).unref?.();

  /** One sync: what moved goes out, what the others did comes back and is merged. */
  async function sync(): Promise<void> {
    const batch: {
      key: string;
      state: KeyState;
      ds: number;
      df: number;
      activity: number;
      breaker: Breaker;
      /** Whether this sync asked for the probe lease. */
      asked: boolean;
      /** The manual state this sync sets for the cluster ("": none). */
      setting: string;
    }[] = [];
    const args: (string | number)[] = [base, BUCKET_MS, id, 0];
    const moved = new Map<string, [successes: number, failures: number, activity: number]>();
    box.forEachTotals((key, t) => {
      const now = t.successes + t.failures + t.exclusions + t.rejections;
      if (now !== (activity.get(key) ?? 0)) moved.set(key, [t.successes, t.failures, now]);
    });
    for (const key of [...opened, ...closed, ...openHere, ...manual.keys()])
      if (!moved.has(key)) moved.set(key, [-1, -1, -1]);
    for (const [key, [successes, failures, now]] of moved) {
      if (batch.length >= o.maxKeysPerSync) break;
      if (!box.has(key)) {
        forget(key);
        continue;
      }
      const breaker = box.get(key);
      let state = keys.get(key);
      if (state === undefined) {
        state = { hash: hashOf(key), sentSuccesses: 0, sentFailures: 0, buckets: new Map() };
        keys.set(key, state);
      }
      const ds = successes < 0 ? 0 : Math.max(0, successes - state.sentSuccesses);
      const df = failures < 0 ? 0 : Math.max(0, failures - state.sentFailures);
      const threeState = breaker.policy === "three-state";
      const shown = threeState ? breaker.state : "closed";
      const left = shown === "open" ? (breaker.retryAfterMs ?? 0) : 0;
      const publish = opened.has(key) && left > 0 ? Math.ceil(left) : 0;
      const lease = shown === "open" && left <= 2 * o.syncMs ? o.probeLeaseMs : 0;
      const setting = manual.get(key) ?? "";
      args.push(state.hash, ds, df, publish, lease, closed.has(key) ? "1" : "0", setting);
      batch.push({ key, state, ds, df, activity: now, breaker, asked: lease > 0, setting });
    }
    if (batch.length === 0) return;
    args[3] = batch.length;
    const started = Date.now();
    const watchdog = setTimeout(
      () => down(new Error("redis did not answer in time")),
      o.downAfterMs,
    );
    (watchdog as { unref?: () => void }).unref?.();
    let reply: unknown;
    try {
      reply = await run(o.redis, args);
    } catch (error) {
      stats.errors++;
      down(error);
      return;
    } finally {
      clearTimeout(watchdog);
    }
    for (const item of batch) {
      opened.delete(item.key);
      closed.delete(item.key);
      if (item.setting !== "" && manual.get(item.key) === item.setting) manual.delete(item.key);
      if (item.activity >= 0) activity.set(item.key, item.activity);
    }
    const values = reply as number[];
    const bucket = Number(values[1]);
    for (let i = 0; i < batch.length; i++) {
      const { state, ds, df, breaker } = batch[i];
      state.sentSuccesses += ds;
      state.sentFailures += df;
      const at = 2 + i * REPLY_PER_KEY;
      const own = state.buckets.get(bucket) ?? [0, 0, 0, 0];
      own[0] += ds;
      own[1] += df;
      state.buckets.set(bucket, own);
      let successes = 0;
      let failures = 0;
      for (const [b, s, f] of [
        [bucket, values[at], values[at + 1]],
        [bucket - 1, values[at + 2], values[at + 3]],
      ]) {
        const mine = state.buckets.get(b);
        if (mine === undefined) continue;
        const remote = Math.max(0, Number(s) - mine[0]);
        const remoteF = Math.max(0, Number(f) - mine[1]);
        successes += Math.max(0, remote - mine[2]);
        failures += Math.max(0, remoteF - mine[3]);
        mine[2] = remote; // a flushed or restarted Redis lowers it: counted again from there
        mine[3] = remoteF;
      }
      for (const b of state.buckets.keys()) if (b < bucket - 1) state.buckets.delete(b);
      if (!box.has(batch[i].key)) continue;
      if (successes !== 0 || failures !== 0) breaker.merge(successes, failures);
      if (breaker.policy !== "three-state") continue;
      const [sequence, setting] = String(values[at + 6] ?? "").split(":");
      if (setting !== undefined && Number(sequence) > (applied.get(batch[i].key) ?? 0)) {
        applied.set(batch[i].key, Number(sequence));
        // A state set here was applied when it was set.
        if (setting !== batch[i].setting) apply(batch[i].key, breaker, setting as ManualState);
      }
      const openLeft = Number(values[at + 4]);
      const leased = Number(values[at + 5]) === 1;
      const now = breaker.state;
      if (now === "forced-open" || now === "disabled" || now === "isolated") continue;
      if (openLeft > 0 && (now !== "half-open" || !leased)) breaker.trip(openLeft); // the cluster's open time
      if (batch[i].asked && !leased && breaker.state === "open") breaker.trip(2 * o.syncMs); // another instance holds the probe lease: wait for its word
    }
    stats.syncs++;
    if (stats.syncs % 100 === 0) for (const key of keys.keys()) if (!box.has(key)) forget(key);
    stats.lastSyncAt = Date.now();
    stats.lagMs = stats.lastSyncAt - started;
    stats.keys = batch.length;
    if (!stats.up) {
      stats.up = true;
      for (const key of keys.keys()) {
        if (box.has(key) && box.get(key).policy === "three-state" && box.get(key).state === "open")
          opened.add(key); // Redis may have lost it (a restart, a flush): publish again
      }
      emit("cluster-up");
    }
  }

  /** Drops what this instance keeps of a key deleted from the box. */
  function forget(key: string): void {
    for (const held of [keys, activity, applied, manual, isolations]) held.delete(key);
    for (const held of [opened, closed, openHere]) held.delete(key);
  }

  /** Puts `breaker` in a manual state the cluster asked for. */
  function apply(key: string, breaker: Breaker, setting: ManualState): void {
    if (setting === "open") breaker.forceOpen();
    else if (setting === "isolated") {
      if (!isolations.has(key)) isolations.set(key, breaker.isolate());
    } else {
      isolations.get(key)?.release();
      isolations.delete(key);
      breaker.forceClose();
    }
  }

  /** A manual state for the whole cluster: applied here now, on the others at their next sync. */
  function setManual(key: string, setting: ManualState): void {
    if (typeof key !== "string") throw new TypeError(`key must be a string, got ${typeof key}`);
    const breaker = box.get(key);
    if (breaker.policy !== "three-state")
      throw new TypeError(
        `${setting === "open" ? "forceOpen" : setting === "isolated" ? "isolate" : "forceClose"}() needs a three-state breaker; ${JSON.stringify(key)} is adaptive`,
      );
    apply(key, breaker, setting);
    manual.set(key, setting);
  }

  return {
    id,
    stats,
    forceOpen: (key) => setManual(key, "open"),
    isolate: (key) => setManual(key, "isolated"),
    forceClose: (key) => setManual(key, "closed"),
    on(event, listener) {
      if (event !== "cluster-down" && event !== "cluster-up")
        throw new TypeError(`event must be 'cluster-down' or 'cluster-up', got ${String(event)}`);
      if (typeof listener !== "function")
        throw new TypeError(`listener must be a function, got ${typeof listener}`);
      let set = listeners.get(event);
      if (set === undefined) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener);
      return () => set.delete(listener);
    },
    async close() {
      if (stopped) return;
      clearInterval(timer);
      await inFlight;
      await sync().catch(() => {}); // best effort: what is pending goes out
      stopped = true;
      stopListening();
    },
  };
}

/** EVALSHA, loading the script on NOSCRIPT (a new or flushed server). */
async function run(redis: RedisLike, args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(SCRIPT_SHA, 0, ...args);
  } catch (error) {
    if (!String((error as Error)?.message ?? error).startsWith("NOSCRIPT")) throw error;
    return redis.eval(SCRIPT, 0, ...args);
  }
}

/** A breaker key as a Redis key part: any string, hashed (no braces, no separators, no size). */
function hashOf(key: string): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, 24);
}

function checkCluster(box: BreakerBox, options: ClusterOptions): Required<ClusterOptions> {
  if (typeof box !== "object" || box === null || typeof box.forEachTotals !== "function")
    throw new TypeError("joinCluster: the first argument must be a BreakerBox");
  if (typeof options !== "object" || options === null)
    throw new TypeError("joinCluster: options must be an object with redis and name");
  const { redis, name } = options;
  if (
    typeof redis !== "object" ||
    redis === null ||
    typeof redis.evalsha !== "function" ||
    typeof redis.eval !== "function"
  )
    throw new TypeError("redis must be an ioredis or iovalkey client (evalsha and eval)");
  if (typeof name !== "string" || name === "" || /[{}]/.test(name))
    throw new TypeError(
      `name must be a non-empty string without braces, got ${JSON.stringify(name)}`,
    );
  const prefix = options.prefix ?? "breakerbox";
  if (typeof prefix !== "string" || prefix === "" || /[{}]/.test(prefix))
    throw new TypeError(
      `prefix must be a non-empty string without braces, got ${JSON.stringify(prefix)}`,
    );
  const number = (key: keyof ClusterOptions, fallback: number, min: number) => {
    const value = options[key] ?? fallback;
    if (!(typeof value === "number" && Number.isInteger(value) && value >= min && value <= 3.6e6))
      throw new RangeError(`${key} must be an integer in [${min}, 3600000], got ${String(value)}`);
    return value;
  };
  const syncMs = number("syncMs", 100, 10);
  return {
    redis,
    name,
    prefix,
    syncMs,
    probeLeaseMs: number("probeLeaseMs", 5000, 1),
    downAfterMs: number("downAfterMs", Math.max(1000, 10 * syncMs), 1),
    maxKeysPerSync: number("maxKeysPerSync", 5000, 1),
  };
}
