/**
 * Which model made a table's vectors, kept in the database beside it (one row per table
 * in `langchain_image_embeddings_stores`), so that a store opened with another model is
 * refused instead of mixing vectors that cannot be compared.
 */
import { resolve } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { SessionPool as Pool } from "./connection.js";
import { StoreModelMismatchError, type StoreModelIdentity } from "../../errors.js";

export const MODEL_RECORD_TABLE = "langchain_image_embeddings_stores";

/** The identity of `embeddings` when it is an ImageEmbeddings (it has `model` and `getDimension`), else undefined. */
export async function modelIdentityOf(embeddings: EmbeddingsInterface): Promise<StoreModelIdentity | undefined> {
  const e = embeddings as {
    model?: unknown;
    getDimension?: () => Promise<number>;
    projectionHead?: { id?: string };
    pooling?: unknown;
  };
  if (typeof e.model !== "string" || typeof e.getDimension !== "function") return undefined;
  return {
    // Local model directories are compared by absolute path, Hub ids as written (as ImageFaissStore does).
    model: e.model.startsWith(".") || e.model.startsWith("/") ? resolve(e.model) : e.model,
    dimension: await e.getDimension(),
    head: e.projectionHead?.id ?? null,
    pooling: typeof e.pooling === "string" ? e.pooling : null,
  };
}

export async function ensureModelRecordTable(pool: Pool): Promise<void> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS ${MODEL_RECORD_TABLE} (
      table_name text PRIMARY KEY,
      model text NOT NULL,
      dimension integer NOT NULL,
      head text,
      pooling text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
}

/** The record of `tableName`, or undefined when no model has been recorded for it. */
export async function readModelRecord(pool: Pool, tableName: string): Promise<StoreModelIdentity | undefined> {
  const { rows } = await pool.query<StoreModelIdentity & Record<string, unknown>>(
    `SELECT model, dimension, head, pooling FROM ${MODEL_RECORD_TABLE} WHERE table_name = $1`,
    [tableName],
  );
  return rows[0];
}

/**
 * Records `identity` for `tableName` if none is recorded yet (the first writer wins, even
 * when several open the store at once), then checks it against what is recorded.
 * Throws `StoreModelMismatchError` naming `storeName`, the stored model and `identity`.
 */
export async function claimModelRecord(
  pool: Pool,
  tableName: string,
  identity: StoreModelIdentity,
  storeName: string,
): Promise<void> {
  await pool.query(
    `INSERT INTO ${MODEL_RECORD_TABLE} (table_name, model, dimension, head, pooling)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (table_name) DO NOTHING`,
    [tableName, identity.model, identity.dimension, identity.head, identity.pooling],
  );
  const stored = (await readModelRecord(pool, tableName))!;
  const same =
    stored.model === identity.model &&
    stored.dimension === identity.dimension &&
    (stored.head ?? null) === identity.head &&
    (stored.pooling ?? null) === identity.pooling;
  if (!same) throw new StoreModelMismatchError(storeName, stored, identity);
}
