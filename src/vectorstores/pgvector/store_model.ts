/**
 * Which model a pgvector table was filled with, read without embeddings: what a queue
 * worker (or a search without --model) needs to know before it can load a model.
 */
import type { StoreModelIdentity } from "../../errors.js";
import { openPool, redactUrl } from "./connection.js";
import { tableNames } from "./identifiers.js";
import { MODEL_RECORD_TABLE, readModelRecord } from "./model_record.js";

export interface ReadStoreModelOptions {
  /** The table. Default: `"image_embeddings"`. */
  tableName?: string;
  schemaName?: string;
  /** How long to wait for Postgres before failing with `StoreConnectionError`. Default: `10000` ms. */
  connectTimeoutMs?: number;
}

/**
 * The model recorded for the table at `connectionString` (model id or absolute folder,
 * dimension, head, pooling), or undefined when nothing has been stored there yet.
 */
export async function readPgvectorStoreModel(
  connectionString: string,
  options: ReadStoreModelOptions = {},
): Promise<StoreModelIdentity | undefined> {
  const names = tableNames(options.tableName ?? "image_embeddings", options.schemaName);
  const pool = await openPool(connectionString, {
    poolSize: 1,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    sessionSettings: () => [],
  });
  try {
    const { rows } = await pool.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [
      MODEL_RECORD_TABLE,
    ]);
    if (!rows[0].present) return undefined;
    return await readModelRecord(pool, names.tableName);
  } catch (error) {
    throw new Error(`Cannot read the model recorded in ${redactUrl(connectionString)}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await pool.end().catch(() => undefined);
  }
}
