/**
 * One coordinator per table at a time: a lease in Redis (SET NX with an expiry, renewed
 * while the run lasts). A second coordinator on the same table waits for the first to
 * finish, then plans against what the first stored, so two coordinators started at once
 * do not embed the same contents twice. A crashed coordinator's lease lapses after `ttlMs`.
 */
import { randomUUID } from "node:crypto";

/** What this needs from an ioredis client. */
interface RedisLike {
  set(key: string, value: string, px: "PX", ms: number, nx: "NX"): Promise<string | null>;
  eval(script: string, keys: number, ...args: (string | number)[]): Promise<unknown>;
}

const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export interface CoordinatorLease {
  release(): Promise<void>;
}

/**
 * Takes the lease `key`, waiting (polling every `pollMs`) while another coordinator holds
 * it; rejects when `signal` aborts first. The lease is renewed every third of `ttlMs`.
 */
export async function takeCoordinatorLease(
  redis: RedisLike,
  key: string,
  {
    ttlMs = 60_000,
    pollMs = 250,
    signal,
    onWait,
  }: { ttlMs?: number; pollMs?: number; signal?: AbortSignal; onWait?: () => void } = {},
): Promise<CoordinatorLease> {
  const token = randomUUID();
  let waited = false;
  while ((await redis.set(key, token, "PX", ttlMs, "NX")) === null) {
    if (signal?.aborted) throw new Error("Stopped while waiting for another coordinator on the same table");
    if (!waited) onWait?.();
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const renewal = setInterval(() => void redis.eval(RENEW, 1, key, token, ttlMs).catch(() => undefined), ttlMs / 3);
  renewal.unref();
  return {
    async release() {
      clearInterval(renewal);
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    },
  };
}
