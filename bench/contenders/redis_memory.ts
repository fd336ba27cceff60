/**
 * Redis memory per batch job, measured on a real Redis: `batches` jobs of `batchSize`
 * images each, added as the coordinator adds them (`addJobs`: same data, ids and options),
 * with realistic paths (`pathLength` characters) and SHA-256 hashes. Reads INFO memory's
 * used_memory before and after, and MEMORY USAGE of one job's hash; then a worker that
 * does no work completes them all (returning what a real worker returns), and the same
 * again, because completed jobs are kept a day.
 */
import { createHash } from "node:crypto";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { BatchJobData, BatchJobResult } from "../../src/distributed/batch_jobs.js";
import { addJobs } from "../../src/distributed/queued_indexer.js";
import { startRedisServer } from "../../test/helpers/redis_server.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{ batches: number; batchSize: number; pathLength: number; model: string }>();
const redis = await startRedisServer();
const client = new Redis(redis.url);
const connection = { url: redis.url, maxRetriesPerRequest: null };
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info("memory"))![1]);
// Exact (SAMPLES 0): by default Redis estimates a large hash or stream from a few of its fields.
const keyBytes = async (key: string) => Number(await client.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
// BullMQ's event stream is capped (about 10,000 events), so it is counted apart from the per-batch cost.
const eventBytes = () => keyBytes("bull:image-embeddings:events");
const hash = (s: string) => createHash("sha256").update(s).digest("hex");
// e.g. /mnt/photos/2024/06/17/IMG_000123.jpg, padded to the chosen length.
const pathOf = (i: number) => {
  const base = `/mnt/photos/${2000 + (i % 25)}/${String(i % 12).padStart(2, "0")}/IMG_${String(i).padStart(7, "0")}.jpg`;
  return base.length >= args.pathLength
    ? base
    : `/mnt/${"p".repeat(args.pathLength - base.length - 1)}${base.slice(4)}`;
};

try {
  const queue = new Queue<BatchJobData, BatchJobResult>("image-embeddings", { connection });
  await queue.waitUntilReady();
  const jobs: BatchJobData[] = Array.from({ length: args.batches }, (_, b) => ({
    model: args.model,
    tableName: "image_embeddings",
    items: Array.from({ length: args.batchSize }, (_, i) => {
      const n = b * args.batchSize + i;
      return { hash: hash(String(n)), paths: [pathOf(n)] };
    }),
  }));
  const before = await usedMemory();
  const added = await addJobs(queue, jobs, 5);
  const queued = await usedMemory();
  const queuedEvents = await eventBytes();
  const jobKeyBytes = await keyBytes(`bull:image-embeddings:${added[0].id}`);
  const jobDataBytes = Buffer.byteLength(JSON.stringify(jobs[0]));

  let done = 0;
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker<BatchJobData, BatchJobResult>(
      "image-embeddings",
      async (job) => ({ stored: job.data.items.map((item) => item.hash), failures: [] }),
      { connection, concurrency: 8 },
    );
    worker.on("completed", () => {
      if (++done === args.batches) void worker.close().then(resolve);
    });
  });
  await finished;
  const completed = await usedMemory();
  const completedEvents = await eventBytes();
  const completedJobKeyBytes = await keyBytes(`bull:image-embeddings:${added[0].id}`);
  await queue.close();
  report({
    batches: args.batches,
    batchSize: args.batchSize,
    pathLength: pathOf(0).length,
    jobDataBytes,
    usedMemoryBefore: before,
    bytesPerQueuedBatch: (queued - queuedEvents - before) / args.batches,
    jobKeyBytes,
    bytesPerCompletedBatch: (completed - completedEvents - before) / args.batches,
    completedJobKeyBytes,
    eventStreamBytes: { queued: queuedEvents, completed: completedEvents },
  });
} finally {
  client.disconnect();
  await redis.stop();
}
