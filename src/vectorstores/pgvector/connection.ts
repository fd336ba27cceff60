/**
 * A pool of Postgres connections for the pgvector store: node-postgres, loaded lazily,
 * with per-connection search settings and a connect timeout, so that a wrong or
 * unreachable URL fails with an error naming it instead of hanging.
 */
import type { Pool, PoolClient } from "pg";
import { StoreConnectionError } from "../../errors.js";
import { loadPg } from "../../utils/imports.js";

export interface PoolOptions {
  /** Most connections held at once. */
  poolSize: number;
  /** How long to wait for a connection (to connect, or for a free one) before failing. */
  connectTimeoutMs: number;
  /** Statements run on every new connection before its first query, e.g. `SET hnsw.ef_search = 100`. */
  sessionSettings: () => string[];
}

/** `url` with its password replaced by `***`, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    // A libpq key=value string: "host=... password=secret".
    return url.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, "$1***");
  }
}

/**
 * A pg pool whose connections each run the session settings before their first query.
 * pg emits "connect" for a new connection just before handing it out; the settings are
 * started there, and `connect` waits for them, so a query never overlaps them and a
 * failed setting is reported by the first query that needed it.
 */
export class SessionPool {
  private readonly settled = new WeakMap<PoolClient, Promise<unknown>>();

  constructor(
    readonly pool: Pool,
    sessionSettings: () => string[],
  ) {
    pool.on("connect", (client: PoolClient) => {
      const settings = sessionSettings();
      if (settings.length > 0) this.settled.set(client, client.query(settings.join("; ")));
    });
  }

  /** A connection with its settings applied; `release()` it when done. */
  async connect(): Promise<PoolClient> {
    const client = await this.pool.connect();
    const settling = this.settled.get(client);
    if (settling) {
      this.settled.delete(client);
      try {
        await settling;
      } catch (error) {
        client.release(error as Error); // destroyed, not reused
        throw error;
      }
    }
    return client;
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    parameters?: unknown[],
  ): Promise<{ rows: R[] }> {
    const client = await this.connect();
    try {
      return await client.query<R>(sql, parameters);
    } finally {
      client.release();
    }
  }

  /** Runs `sql` on every connection the pool holds now, e.g. settings changed after they opened. */
  async applyToOpenConnections(sql: string): Promise<void> {
    const clients: PoolClient[] = [];
    try {
      while (clients.length < this.pool.totalCount) clients.push(await this.connect());
      for (const client of clients) await client.query(sql);
    } finally {
      for (const client of clients) client.release();
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Opens a pool and checks it by running one query. Rejects with `StoreConnectionError`
 * (naming the URL, password redacted) when Postgres cannot be reached within
 * `connectTimeoutMs`.
 */
export async function openPool(url: string, options: PoolOptions): Promise<SessionPool> {
  const pg = await loadPg();
  const pool = new SessionPool(
    new pg.Pool({ connectionString: url, max: options.poolSize, connectionTimeoutMillis: options.connectTimeoutMs }),
    options.sessionSettings,
  );
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.pool.on("error", () => undefined);
  try {
    await withTimeout(pool.query("SELECT 1"), options.connectTimeoutMs, url);
  } catch (error) {
    void pool.end().catch(() => undefined);
    if (error instanceof StoreConnectionError) throw error;
    throw new StoreConnectionError(redactUrl(url), describeConnectError(error), { cause: error });
  }
  return pool;
}

/** A short reason for a failed connection, without the URL (the error adds it). */
function describeConnectError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e.code === "ECONNREFUSED") return "connection refused (is Postgres listening on that host and port?)";
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return "unknown host";
  if (e.code === "28P01" || e.code === "28000") return `authentication failed (${e.message})`;
  if (e.code === "3D000") return `no such database (${e.message})`;
  return e.message ?? String(error);
}

/**
 * pg's connect timeout covers the TCP connect and the wait for a pooled client, but not a
 * server that accepts the connection and never answers; this bounds the whole check.
 */
function withTimeout<T>(work: Promise<T>, ms: number, url: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreConnectionError(redactUrl(url), `no answer within ${ms} ms (connectTimeoutMs)`)),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
