/**
 * What travels through the queue: one job per batch of distinct contents. Its id is the
 * hash of the batch, so enqueueing the same batch again (a re-run, a second coordinator)
 * adds nothing.
 */
import { createHash } from "node:crypto";
import type { IndexFailure } from "../indexer/index_summary.js";

/** The queue's name in Redis. Default for coordinators and workers alike. */
export const DEFAULT_QUEUE_NAME = "image-embeddings";

/** One content to embed: its SHA-256 and every path (or http(s) URL) that holds it. */
export interface BatchItem {
  hash: string;
  paths: string[];
}

export interface BatchJobData {
  /** The model to embed with (a Hub id or a folder every worker can read) and its precision. */
  model: string;
  dtype?: string;
  /** The pgvector table the vectors go to. */
  tableName: string;
  items: BatchItem[];
}

export interface BatchJobResult {
  /** Hashes stored (upserted with all their paths). */
  stored: string[];
  /** Files that could not be embedded, with the worker's reason; the rest of the batch was stored. */
  failures: IndexFailure[];
}

/** The job id of a batch: SHA-256 of its table, model, and items in order. */
export function batchJobId(data: BatchJobData): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([data.tableName, data.model, data.dtype ?? null]));
  for (const item of data.items) hash.update(`\n${item.hash}\t${item.paths.join("\t")}`);
  return `batch-${hash.digest("hex")}`;
}
