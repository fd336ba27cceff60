/**
 * A queue worker: takes batch jobs from BullMQ, embeds their files and upserts the
 * vectors into the pgvector store. Run any number, on any machine that reads the same
 * paths (a shared mount) and reaches the same Redis and Postgres.
 *
 * - **The model comes with the work.** A worker may start before any index exists; it
 *   loads the model named by the first job (the coordinator took it from `--model` or
 *   from the store's model record), and the store refuses a different one.
 * - **Bad files do not fail the batch.** They come back in the job's result, with their
 *   reason; the rest of the batch is stored. A thrown error (Postgres down, ...) fails the
 *   attempt, and BullMQ retries it with exponential backoff (`attempts` set by the coordinator).
 * - **A killed worker loses nothing.** Its job's lock lapses after `lockDuration`, the
 *   stall check (every second) puts the job back, and another worker runs it. Rows are
 *   upserted by content hash with `mergePaths`, so a batch run twice is still one row per content.
 */
import { createHash } from "node:crypto";
import type { EventEmitter } from "node:events";
import { readFile } from "node:fs/promises";
import { Document } from "@langchain/core/documents";
import type { Job } from "bullmq";
import { ImageEmbeddings, type ImageEmbeddingsParams } from "../embeddings/image_embeddings.js";
import type { IndexFailure } from "../indexer/index_summary.js";
import type { ModelDtype } from "../models/model_source.js";
import { loadBullmq } from "../utils/imports.js";
import { withPaths } from "../vectorstores/image_paths.js";
import { PgvectorImageStore } from "../vectorstores/pgvector/pgvector_image_store.js";
import { readPgvectorStoreModel } from "../vectorstores/pgvector/store_model.js";
import { DEFAULT_QUEUE_NAME, type BatchItem, type BatchJobData, type BatchJobResult } from "./batch_jobs.js";
import { checkQueueConnection } from "./queue_connection.js";

export interface IndexWorkerOptions {
  /** The Redis URL, `redis://[user:password@]host:port`. */
  queue: string;
  /** The Postgres URL, `postgres://user[:password]@host:port/db`. */
  store: string;
  /** Default: `"image-embeddings"`. */
  queueName?: string;
  /** Batches run at once in this process. Default: `1` (one batch already uses every core). */
  concurrency?: number;
  /**
   * The expected time of one batch, in seconds. The job lock is renewed every half
   * `lockDuration` while a batch runs; `lockDuration` is twice this, at least 4 s, so a
   * busy worker keeps its job and a killed one's job runs elsewhere about that long
   * after the kill. Default: `2`.
   */
  batchSeconds?: number;
  /** How long to wait for Redis and Postgres before failing. Default: `10000` ms. */
  connectTimeoutMs?: number;
  /** Options for the `ImageEmbeddings` each model is loaded with (threads, pool, ...). */
  embeddings?: Omit<ImageEmbeddingsParams, "model" | "dtype">;
  /** Called after each batch. */
  onBatch?: (info: { jobId: string; stored: number; failed: number; seconds: number }) => void;
  /** Called when a batch attempt throws (it is retried with backoff). */
  onError?: (error: Error) => void;
}

export interface IndexWorker {
  /**
   * The BullMQ `Worker`, for its events ("completed", "failed", ...). Typed as an
   * EventEmitter so that this package's public types do not need bullmq's: it is an
   * optional peer, absent from projects that do not index through a queue.
   */
  readonly worker: EventEmitter;
  /**
   * Stops taking jobs, lets the batch in flight finish (its result is saved), then closes
   * the connections. With `force`, the batch in flight is left to the stall check instead.
   */
  close(force?: boolean): Promise<void>;
}

/** The lock duration for an expected batch time: twice it, at least 4 s. */
export function lockDurationFor(batchSeconds: number): number {
  return Math.max(4_000, Math.ceil(2 * batchSeconds * 1000));
}

/**
 * Connects to Redis and Postgres and starts taking batch jobs. Rejects with
 * `QueueConnectionError` or `StoreConnectionError` (naming the URL) when one is unreachable.
 */
export async function startIndexWorker(options: IndexWorkerOptions): Promise<IndexWorker> {
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const batchSeconds = options.batchSeconds ?? 2;
  if (!(batchSeconds > 0))
    throw new RangeError(`Expected a positive number for batchSeconds but received ${batchSeconds}`);
  const connection = await checkQueueConnection(options.queue, timeoutMs);
  // Postgres is checked now too, so that a wrong URL fails at start, not at the first job.
  await readPgvectorStoreModel(options.store, { connectTimeoutMs: timeoutMs });
  const { Worker } = await loadBullmq();
  const contexts = new StoreContexts(options.store, timeoutMs, options.embeddings);

  const worker = new Worker<BatchJobData, BatchJobResult>(
    options.queueName ?? DEFAULT_QUEUE_NAME,
    async (job: Job<BatchJobData, BatchJobResult>) => {
      const started = performance.now();
      const result = await embedBatch(await contexts.get(job.data), job.data.items);
      options.onBatch?.({
        jobId: job.id!,
        stored: result.stored.length,
        failed: result.failures.length,
        seconds: (performance.now() - started) / 1000,
      });
      return result;
    },
    {
      connection,
      concurrency: options.concurrency ?? 1,
      lockDuration: lockDurationFor(batchSeconds),
      stalledInterval: 1_000,
      // A batch whose worker was killed is put back up to this many times before it fails.
      maxStalledCount: 3,
    },
  );
  worker.on("failed", (_job, error) => options.onError?.(error));
  worker.on("error", (error) => options.onError?.(error));
  await worker.waitUntilReady();

  return {
    worker,
    async close(force = false) {
      await worker.close(force);
      await contexts.close();
    },
  };
}

/** Reads, hashes and embeds one batch's contents; upserts the good ones with all their paths. */
async function embedBatch(context: StoreContext, items: BatchItem[]): Promise<BatchJobResult> {
  const failures: IndexFailure[] = [];
  const readable: { item: BatchItem; bytes: Buffer; paths: string[] }[] = [];
  for (const item of items) {
    let bytes: Buffer | undefined;
    const paths: string[] = [];
    for (const path of item.paths) {
      try {
        const read = await readFile(path);
        if (createHash("sha256").update(read).digest("hex") !== item.hash) {
          failures.push({ path, reason: "the file changed after it was queued; index again" });
          continue;
        }
        bytes ??= read;
        paths.push(path);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        failures.push(e.code ? { path, reason: e.message, code: e.code } : { path, reason: e.message });
      }
    }
    if (bytes) readable.push({ item, bytes, paths });
  }
  const results = await context.embeddings.embedImagesSettled(readable.map((r) => r.bytes));
  const vectors: number[][] = [];
  const documents: Document[] = [];
  const stored: string[] = [];
  results.forEach((result, i) => {
    const { item, paths } = readable[i];
    if (result.error) {
      for (const path of paths) failures.push({ path, reason: result.error.reason, code: result.error.code });
      return;
    }
    const { width, height, format } = result.image;
    const base = new Document({
      id: item.hash,
      pageContent: "",
      metadata: { modality: "image", contentHash: item.hash, width, height, format },
    });
    vectors.push(result.embedding);
    documents.push(withPaths(base, paths));
    stored.push(item.hash);
  });
  if (stored.length > 0) await context.store.addVectors(vectors, documents, { ids: stored, mergePaths: true });
  return { stored, failures };
}

interface StoreContext {
  embeddings: ImageEmbeddings;
  store: PgvectorImageStore;
}

/** One loaded model and open store per (model, table): loaded when the first job for it arrives. */
class StoreContexts {
  private readonly open = new Map<string, Promise<StoreContext>>();

  constructor(
    private readonly url: string,
    private readonly connectTimeoutMs: number,
    private readonly embeddingOptions: IndexWorkerOptions["embeddings"] = {},
  ) {}

  get(data: BatchJobData): Promise<StoreContext> {
    const key = JSON.stringify([data.model, data.dtype ?? null, data.tableName]);
    let context = this.open.get(key);
    if (!context) {
      context = (async () => {
        const embeddings = new ImageEmbeddings({
          ...this.embeddingOptions,
          model: data.model,
          dtype: data.dtype as ModelDtype | undefined,
        });
        try {
          const store = await PgvectorImageStore.initialize(embeddings, {
            connectionString: this.url,
            tableName: data.tableName,
            connectTimeoutMs: this.connectTimeoutMs,
            poolSize: 2,
            hnswIndexAt: Infinity, // the coordinator builds it once the load is done
          });
          return { embeddings, store };
        } catch (error) {
          await embeddings.dispose().catch(() => undefined);
          throw error;
        }
      })();
      // A failed open (Postgres down) is tried again by the job's next attempt.
      context.catch(() => this.open.delete(key));
      this.open.set(key, context);
    }
    return context;
  }

  async close(): Promise<void> {
    const contexts = await Promise.allSettled(this.open.values());
    this.open.clear();
    for (const c of contexts) {
      if (c.status !== "fulfilled") continue;
      await c.value.store.end().catch(() => undefined);
      await c.value.embeddings.dispose().catch(() => undefined);
    }
  }
}
