/**
 * The Redis behind the queue: its URL checked up front, so that a wrong or unreachable
 * URL fails within a timeout with an error naming it (password redacted), instead of
 * BullMQ retrying the connection forever.
 */
import { QueueConnectionError } from "../errors.js";
import { loadBullmq } from "../utils/imports.js";

/** What BullMQ's Queue, Worker and QueueEvents take as `connection`. */
export interface QueueConnection {
  url: string;
  /** BullMQ's blocking commands need this (a worker refuses anything else). */
  maxRetriesPerRequest: null;
}

/** `url` with its password replaced by `***`, for messages and logs. */
export function redactQueueUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

/**
 * Connects once to `url` and runs PING. Rejects with `QueueConnectionError` when the URL
 * is not a redis:// (or rediss://) URL, or Redis does not answer within `timeoutMs`.
 */
export async function checkQueueConnection(url: string, timeoutMs = 10_000): Promise<QueueConnection> {
  const shown = redactQueueUrl(url);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new QueueConnectionError(shown, "not a URL (expected redis://host:port)");
  }
  if (protocol !== "redis:" && protocol !== "rediss:") {
    throw new QueueConnectionError(shown, `expected a redis:// or rediss:// URL, not ${protocol}//`);
  }
  await loadBullmq(); // ioredis is loaded with it, with the same install hint when missing
  const { Redis } = await import("ioredis");
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null, // one try: the error is reported, not retried forever
  });
  let lastError: Error | undefined;
  client.on("error", (error: Error) => (lastError = error));
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueueConnectionError(shown, `no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
  } catch (error) {
    if (error instanceof QueueConnectionError) throw error;
    throw new QueueConnectionError(shown, describeRedisError(lastError ?? error), { cause: error });
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
  return { url, maxRetriesPerRequest: null };
}

function describeRedisError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e.code === "ECONNREFUSED") return "connection refused (is Redis listening on that host and port?)";
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return "unknown host";
  return e.message ?? String(error);
}
