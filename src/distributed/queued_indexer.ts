/**
 * The coordinator of distributed indexing: walks folders, hashes their files, asks the
 * pgvector store which contents it already holds, and queues the rest on BullMQ in
 * batches, which queue workers (`index_worker.ts`) embed and store. It waits for every
 * batch, removes the entries of files that are gone, and returns the same summary as
 * `indexFolders`.
 *
 * - **Idempotent.** A batch's job id is the hash of the batch (`batchJobId`), so queueing
 *   the same batch again adds no job. One coordinator runs per table at a time (a lease in
 *   Redis, `coordinator_lock.ts`): a second one waits, then finds the first one's work
 *   stored. Rows are upserted by content hash: a content is one row however often it is
 *   embedded. An unchanged folder queues nothing.
 * - **Paths.** Known contents at new paths only get the path added (no embedding); a path
 *   whose content changed is detached from its old entry first (an entry left without
 *   paths is deleted).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Job, QueueEvents } from "bullmq";
import { ImageEmbeddings } from "../embeddings/image_embeddings.js";
import type { IndexCounts, IndexFailure, IndexProgress, IndexSummary } from "../indexer/index_summary.js";
import { findImageFiles, isInside } from "../indexer/walk.js";
import type { ModelDtype } from "../models/model_source.js";
import { loadBullmq } from "../utils/imports.js";
import { redactUrl } from "../vectorstores/pgvector/connection.js";
import { PgvectorImageStore } from "../vectorstores/pgvector/pgvector_image_store.js";
import { readPgvectorStoreModel } from "../vectorstores/pgvector/store_model.js";
import {
  batchJobId,
  DEFAULT_QUEUE_NAME,
  type BatchItem,
  type BatchJobData,
  type BatchJobResult,
} from "./batch_jobs.js";
import { takeCoordinatorLease, type CoordinatorLease } from "./coordinator_lock.js";
import { hashFiles } from "./hash_files.js";
import { planIndexing } from "../indexer/index_plan.js";
import { checkQueueConnection, redactQueueUrl } from "./queue_connection.js";

export interface QueuedIndexOptions {
  /** The Redis URL, `redis://[user:password@]host:port`. */
  queue: string;
  /** The Postgres URL, `postgres://user[:password]@host:port/db`. */
  store: string;
  /** The model: a Hub id or a folder every worker reads at the same path. Default: the store's recorded model. */
  model?: string;
  dtype?: ModelDtype;
  /** Default: `"image_embeddings"`. */
  tableName?: string;
  /** Default: `"image-embeddings"`. */
  queueName?: string;
  /** Distinct contents per job. Default: `16`. */
  batchSize?: number;
  /** Glob patterns to leave out (see `WalkOptions.exclude`). */
  exclude?: string[];
  /** Tries per batch when a worker throws (bad files do not throw); retried with exponential backoff from 1 s. Default: `5`. */
  attempts?: number;
  /** How long to wait for Redis and Postgres before failing. Default: `10000` ms. */
  connectTimeoutMs?: number;
  /** Build the HNSW index when the table holds at least this many rows after the run. Default: `10000`. */
  hnswIndexAt?: number;
  /** Stops waiting (the queued batches stay queued for the workers); the summary says `interrupted: true`. */
  signal?: AbortSignal;
  /** Called once when another coordinator is running on the same table: this one waits for it to finish. */
  onWait?: () => void;
  /** Called after the plan, after each finished batch and at the end. */
  onProgress?: (progress: IndexProgress) => void;
}

/** `IndexSummary` with `indexDir` holding the store's URL (password redacted), plus the queue's. */
export interface QueuedIndexSummary extends IndexSummary {
  queue: string;
  /** Jobs this run waited for. */
  batches: number;
}

/**
 * Indexes the image files under `roots` into the pgvector store at `options.store`
 * through the queue at `options.queue` (see the file comment). Workers must be running
 * (`startIndexWorker`, or `image-embeddings worker`) for it to finish.
 *
 * @example
 * ```typescript
 * const summary = await indexFoldersQueued(["/mnt/photos"], {
 *   queue: "redis://queue-host:6379",
 *   store: "postgres://indexer@db-host:5432/photos",
 *   model: "Xenova/clip-vit-base-patch32",
 * });
 * console.log(summary.added, summary.failures); // 5120 [ { path: '/mnt/photos/broken.jpg', reason: '...' } ]
 * ```
 */
export async function indexFoldersQueued(roots: string[], options: QueuedIndexOptions): Promise<QueuedIndexSummary> {
  if (!Array.isArray(roots) || roots.length === 0) throw new TypeError("Expected at least one folder to index");
  const started = performance.now();
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new RangeError(`Expected a positive integer for batchSize but received ${batchSize}`);
  }
  const tableName = options.tableName ?? "image_embeddings";
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const connection = await checkQueueConnection(options.queue, timeoutMs);

  const recorded = options.model
    ? undefined
    : await readPgvectorStoreModel(options.store, { tableName, connectTimeoutMs: timeoutMs });
  const model = options.model ? absoluteIfFolder(options.model) : recorded?.model;
  if (!model) {
    throw new Error(
      `No model for ${redactUrl(options.store)}: nothing is stored in table ${tableName} yet, so pass --model <id|dir>`,
    );
  }
  const embeddings = new ImageEmbeddings({ model, dtype: options.dtype });
  let store: PgvectorImageStore | undefined;
  const { Queue, QueueEvents } = await loadBullmq();
  const queue = new Queue<BatchJobData, BatchJobResult>(queueName, { connection });
  let events: QueueEvents | undefined;
  let lease: CoordinatorLease | undefined;
  let leaseClient: import("ioredis").Redis | undefined;
  try {
    // Claims the model record for the table, or refuses when it holds another model's vectors.
    store = await PgvectorImageStore.initialize(embeddings, {
      connectionString: options.store,
      tableName,
      connectTimeoutMs: timeoutMs,
      hnswIndexAt: Infinity,
    });
    const { Redis } = await import("ioredis");
    leaseClient = new Redis(options.queue, { maxRetriesPerRequest: 1 });
    leaseClient.on("error", () => undefined); // reported by the commands that fail
    lease = await takeCoordinatorLease(leaseClient, coordinatorKey(queueName, store.url, store.tableName), {
      signal: options.signal,
      onWait: options.onWait,
    });
    const absoluteRoots = roots.map((r) => resolve(r));
    const walk = await findImageFiles(absoluteRoots, { exclude: options.exclude });
    const failures: IndexFailure[] = walk.problems.map((p) => ({ path: p.path, reason: p.reason }));
    const counts: IndexCounts = { added: 0, updated: 0, removed: 0, unchanged: 0, failed: 0 };
    const hashed = await hashFiles(walk.files.map((f) => f.path));
    for (const f of hashed.failures) failures.push(f);

    const stored = await store.listPaths();
    const hashes = [...new Set(hashed.files.map((f) => f.hash))];
    const storedDocuments = await store.getDocumentsById(hashes);
    const known = new Set(hashes.filter((_, i) => storedDocuments[i] !== undefined));
    const plan = planIndexing({
      files: hashed.files,
      stored: stored.map((s) => ({ hash: s.contentHash ?? s.id, paths: s.paths })),
      known,
      isUnderRoots: (path) => absoluteRoots.some((root) => isInside(path, root)),
      isProtected: (path) => walk.problems.some((p) => isInside(path, p.path)),
    });
    counts.unchanged = plan.unchanged.length;

    for (const path of plan.detach) await store.removePath(path);
    for (const { hash, path, kind } of plan.attach) {
      if (await store.addPath(hash, path)) {
        counts[kind]++;
      } else {
        // Its entry was just deleted by a detach (two files swapped contents): embed it again.
        const item = plan.embed.find((i) => i.hash === hash);
        if (item) item.paths = [...item.paths, path].sort();
        else plan.embed.push({ hash, paths: [path] });
        plan.embedKinds.push([path, kind]);
      }
    }

    const jobs = batchesOf(plan.embed, batchSize).map((items) => ({ model, dtype: options.dtype, tableName, items }));
    const total = jobs.reduce((n, j) => n + j.items.reduce((m, i) => m + i.paths.length, 0), 0);
    let done = 0;
    const report = (phase: IndexProgress["phase"]) =>
      options.onProgress?.({ phase, found: walk.files.length, total, done, ...counts, failed: failures.length });
    report("scanned");

    let interrupted = false;
    if (jobs.length > 0) {
      // Listening before adding, so that no completion is missed.
      events = new QueueEvents(queueName, { connection });
      await events.waitUntilReady();
      const added = await addJobs(queue, jobs, options.attempts ?? 5);
      const kindOf = new Map(plan.embedKinds);
      const waiting = added.map(async (job) => {
        let result: BatchJobResult;
        try {
          result = (await job.waitUntilFinished(events!)) as BatchJobResult;
        } catch (error) {
          // Every attempt threw: the whole batch failed with the worker's last error.
          const reason = `batch ${job.id} failed: ${(error as Error).message}`;
          result = { stored: [], failures: job.data.items.flatMap((i) => i.paths.map((path) => ({ path, reason }))) };
        }
        const storedHashes = new Set(result.stored);
        const bad = new Set(result.failures.map((f) => f.path));
        for (const item of job.data.items) {
          if (!storedHashes.has(item.hash)) continue;
          for (const path of item.paths) if (!bad.has(path)) counts[kindOf.get(path) ?? "added"]++;
        }
        failures.push(...result.failures);
        done += job.data.items.reduce((n, i) => n + i.paths.length, 0);
        report("indexing");
      });
      interrupted = !(await untilAborted(Promise.all(waiting), options.signal));
    }

    if (!interrupted) {
      for (const path of plan.remove) {
        const { updated, deleted } = await store.removePath(path);
        if (updated.length + deleted.length > 0) counts.removed++;
      }
      const entries = await store.count();
      if (entries >= (options.hnswIndexAt ?? 10_000)) await store.createHnswIndex();
    }
    counts.failed = failures.length;
    report("done");
    return {
      indexDir: store.url,
      queue: redactQueueUrl(options.queue),
      model,
      found: walk.files.length,
      entries: await store.count(),
      ...counts,
      failures: failures.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
      interrupted,
      batches: jobs.length,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await lease?.release();
    leaseClient?.disconnect();
    await events?.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    await store?.end().catch(() => undefined);
    await embeddings.dispose().catch(() => undefined);
  }
}

/** The Redis key of the coordinators' lease on one table of one database. */
function coordinatorKey(queueName: string, storeUrl: string, tableName: string): string {
  const where = new URL(storeUrl);
  const id = createHash("sha256").update(`${where.host}${where.pathname}\t${tableName}`).digest("hex").slice(0, 32);
  return `${queueName}:coordinator:${id}`;
}

/** Contents in batches of `size`, in path order, so that coordinators planning the same work make the same batches. */
function batchesOf(items: BatchItem[], size: number): BatchItem[][] {
  const sorted = [...items].sort((a, b) => (a.paths[0] < b.paths[0] ? -1 : a.paths[0] > b.paths[0] ? 1 : 0));
  const batches: BatchItem[][] = [];
  for (let i = 0; i < sorted.length; i += size) batches.push(sorted.slice(i, i + size));
  return batches;
}

/**
 * Adds the jobs with `addBulk`; a job id already in the queue is not added again. A job
 * left failed by an earlier run is removed first, so that this run tries it again.
 * Exported for the benchmark that measures Redis memory per batch (bench/contenders/redis_memory.ts).
 */
export async function addJobs(
  queue: import("bullmq").Queue<BatchJobData, BatchJobResult>,
  jobs: BatchJobData[],
  attempts: number,
): Promise<Job<BatchJobData, BatchJobResult>[]> {
  const ids = jobs.map(batchJobId);
  for (const id of ids) {
    const existing = await queue.getJob(id);
    if (existing && (await existing.isFailed())) await existing.remove().catch(() => undefined);
  }
  return queue.addBulk(
    jobs.map((data, i) => ({
      name: "embed",
      data,
      opts: {
        jobId: ids[i],
        attempts,
        backoff: { type: "exponential", delay: 1_000 },
        // Kept a day, so that a second coordinator (or a quick re-run) finds their results.
        removeOnComplete: { age: 86_400 },
        removeOnFail: { age: 86_400 },
      },
    })),
  );
}

/** True when `work` settled, false when `signal` aborted first. */
async function untilAborted(work: Promise<unknown>, signal: AbortSignal | undefined): Promise<boolean> {
  if (!signal) {
    await work;
    return true;
  }
  if (signal.aborted) return false;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true as const), aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
}

/** A model folder as an absolute path (workers run elsewhere); a Hub id as given. */
function absoluteIfFolder(model: string): string {
  return model.startsWith(".") || model.startsWith("/") || existsSync(model) ? resolve(model) : model;
}
