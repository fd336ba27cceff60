/**
 * The store's table, in LangChain's `PGVectorStore` layout (the same columns, types and
 * defaults as its `ensureTableInDatabase`, with the dimension fixed), so that a user's
 * `PGVectorStore` over the same table reads what this store writes; and its HNSW index.
 */
import type { SessionPool as Pool } from "./connection.js";
import type { TableNames } from "./identifiers.js";

export interface HnswOptions {
  /** Links per node. Default: `16` (pgvector's default). */
  m?: number;
  /** Candidates examined per insertion; higher builds slower, better graphs. Default: `64` (pgvector's default). */
  efConstruction?: number;
  /**
   * Postgres' `maintenance_work_mem` for this build only (`SET LOCAL` in the build's
   * transaction), e.g. `"1GB"`. pgvector builds the graph in memory while it fits and on
   * disk after that, many times slower (4.5x the CPU here for 512-d vectors): give it
   * about 2.5 kB per 512-d row (m 16). Default: the server's setting (Postgres' is 64MB).
   */
  maintenanceWorkMem?: string;
}

/** What `createHnswIndex` did. */
export interface HnswBuildResult {
  /** False when the table already had an HNSW index, so nothing was built. */
  built: boolean;
  /**
   * Rows after which the graph no longer fit in maintenance_work_mem (pgvector's notice):
   * the rest was built on disk. Undefined when it fit.
   */
  outgrewMemoryAfter?: number;
}

/** Postgres' memory sizes: a whole number and a unit (units are case-sensitive in Postgres). */
const MEMORY_SIZE = /^[1-9][0-9]*(kB|MB|GB|TB)$/;
/** pgvector's notice when the graph spills to disk: "hnsw graph no longer fits into maintenance_work_mem after N tuples". */
const OUTGREW_MEMORY = /hnsw graph no longer fits into maintenance_work_mem after (\d+) tuples/;

/** Creates the pgvector extension and the table if missing; checks an existing table's vector dimension. */
export async function ensureTable(pool: Pool, names: TableNames, dimension: number): Promise<void> {
  await pool.query("CREATE EXTENSION IF NOT EXISTS vector");
  await pool.query(`
    CREATE TABLE IF NOT EXISTS ${names.table} (
      ${names.id} uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
      ${names.content} text,
      ${names.metadata} jsonb,
      ${names.vector} vector(${dimension})
    )`);
  const { rows } = await pool.query(
    `SELECT atttypmod AS dimension FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2`,
    [names.table, JSON.parse(names.vector) as string],
  );
  const stored = rows[0]?.dimension as number | undefined;
  if (stored === undefined) {
    throw new Error(`Table ${names.tableName} has no vector column ${names.vector}: it is not a PGVectorStore table`);
  }
  // -1: a column declared without a dimension (PGVectorStore without `dimensions`) takes any.
  if (stored !== -1 && stored !== dimension) {
    throw new Error(
      `Table ${names.tableName} holds ${stored}-d vectors, but these embeddings make ${dimension}-d vectors: ` +
        `use another table, or the model that filled it.`,
    );
  }
}

/** pgvector's version on this server, e.g. `"0.8.0"`. */
export async function pgvectorVersion(pool: Pool): Promise<string> {
  const { rows } = await pool.query(`SELECT extversion FROM pg_extension WHERE extname = 'vector'`);
  return rows[0].extversion as string;
}

/** Whether `version` (major.minor.patch) is at least `wanted`. */
export function versionAtLeast(version: string, wanted: string): boolean {
  const a = version.split(".").map(Number);
  const b = wanted.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

export async function hasHnswIndex(pool: Pool, names: TableNames): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
     WHERE i.indrelid = $1::regclass AND am.amname = 'hnsw'`,
    [names.table],
  );
  return rows.length > 0;
}

/**
 * Builds an HNSW index for cosine distance on the vector column, unless the table has one,
 * in one transaction on one connection, so that a `maintenanceWorkMem` set for it reaches
 * the build and nothing else (PGlite's connections share one session).
 */
export async function createHnswIndex(
  pool: Pool,
  names: TableNames,
  options: HnswOptions = {},
): Promise<HnswBuildResult> {
  const m = checkIntegerInRange("m", options.m ?? 16, 2, 100);
  const efConstruction = checkIntegerInRange("efConstruction", options.efConstruction ?? 64, 4, 1000);
  if (efConstruction < 2 * m) {
    throw new RangeError(`efConstruction (${efConstruction}) must be at least 2 × m (${2 * m}), as pgvector requires`);
  }
  const memory = options.maintenanceWorkMem;
  if (memory !== undefined && (typeof memory !== "string" || !MEMORY_SIZE.test(memory))) {
    throw new TypeError(
      `Expected a size like "512MB" or "2GB" (kB, MB, GB or TB) for maintenanceWorkMem but received ${JSON.stringify(memory)}`,
    );
  }
  if (await hasHnswIndex(pool, names)) return { built: false };
  const client = await pool.connect();
  let outgrewMemoryAfter: number | undefined;
  const onNotice = (notice: { message?: string }) => {
    const match = OUTGREW_MEMORY.exec(notice.message ?? "");
    if (match) outgrewMemoryAfter = Number(match[1]);
  };
  client.on("notice", onNotice);
  try {
    await client.query("BEGIN");
    if (memory !== undefined) await client.query(`SET LOCAL maintenance_work_mem = '${memory}'`);
    // On the plain column, so both this store's queries and PGVectorStore's (`"embedding" <=> $1`) use it.
    await client.query(
      `CREATE INDEX IF NOT EXISTS ${names.hnswIndex} ON ${names.table}
       USING hnsw (${names.vector} vector_cosine_ops) WITH (m = ${m}, ef_construction = ${efConstruction})`,
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.off("notice", onNotice);
    client.release();
  }
  return { built: true, ...(outgrewMemoryAfter === undefined ? {} : { outgrewMemoryAfter }) };
}

export function checkIntegerInRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Expected an integer from ${min} to ${max} for ${name} but received ${String(value)}`);
  }
  return value;
}
