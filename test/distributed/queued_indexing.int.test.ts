/**
 * Distributed indexing in one process: a real Redis (child process), a real Postgres +
 * pgvector (PGlite over the wire protocol, child process), BullMQ, tiny-clip, and an
 * in-process queue worker. Duplicates, a corrupt file, re-runs, changes and removals, a
 * store made with another model, and unreachable URLs. The multi-process run with a
 * SIGKILLed worker is in distributed_run.int.test.ts.
 */
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueConnectionError, StoreConnectionError, StoreModelMismatchError } from "../../src/errors.js";
import { indexFoldersQueued } from "../../src/distributed/queued_indexer.js";
import { startIndexWorker, type IndexWorker } from "../../src/distributed/index_worker.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { startPgliteServer, type PgliteServer } from "../helpers/pglite_server.js";
import { freePort, startRedisServer, type RedisServer } from "../helpers/redis_server.js";
import { renderShape } from "../helpers/shapes.js";

describe("indexFoldersQueued with an in-process worker", () => {
  let redis: RedisServer;
  let postgres: PgliteServer;
  let worker: IndexWorker;
  let dir: string;
  let cleanup: () => Promise<void>;
  const options = () => ({ queue: redis.url, store: postgres.url, model: TINY_CLIP, batchSize: 4 });
  const rows = async (table = "image_embeddings") => {
    const client = new pg.Client(postgres.url);
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT metadata FROM ${table}`);
      return rows.map((r) => r.metadata as { contentHash: string; paths: string[] });
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("lie-queued-"));
    [redis, postgres] = await Promise.all([startRedisServer(), startPgliteServer()]);
    worker = await startIndexWorker({ queue: redis.url, store: postgres.url });
    for (let i = 0; i < 10; i++) {
      const png = await renderShape({
        colour: i % 2 ? "red" : "blue",
        shape: "circle",
        seed: i + 1,
        width: 48,
        height: 48,
      });
      await writeFile(join(dir, `shape-${i}.png`), png);
    }
    await copyFile(join(dir, "shape-3.png"), join(dir, "copy-of-3.png"));
    // A PNG cut short: its header says PNG, its pixels are missing.
    const whole = await renderShape({ colour: "green", shape: "square", seed: 7, width: 48, height: 48 });
    await writeFile(join(dir, "broken.png"), whole.subarray(0, Math.floor(whole.length / 2)));
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await Promise.all([redis?.stop(), postgres?.stop()]);
    await cleanup?.();
  });

  it("stores each content once with all its paths, reports the corrupt file by path, and a re-run adds 0", async () => {
    const first = await indexFoldersQueued([dir], options());
    expect(first).toMatchObject({ found: 12, added: 11, updated: 0, removed: 0, unchanged: 0, failed: 1, entries: 10 });
    expect(first.failures).toEqual([expect.objectContaining({ path: join(dir, "broken.png"), code: "CORRUPT_IMAGE" })]);
    expect(first.indexDir).toBe(postgres.url);
    const stored = await rows();
    expect(stored).toHaveLength(10);
    const copy = stored.find((r) => r.paths.includes(join(dir, "copy-of-3.png")))!;
    expect(copy.paths).toEqual([join(dir, "copy-of-3.png"), join(dir, "shape-3.png")]);

    const again = await indexFoldersQueued([dir], options());
    expect(again).toMatchObject({ added: 0, updated: 0, removed: 0, unchanged: 11, failed: 1, entries: 10 });
  }, 120_000);

  it("a changed file is updated, a deleted one removed, a new copy of a stored content is recorded without a job", async () => {
    await writeFile(
      join(dir, "shape-0.png"),
      await renderShape({ colour: "green", shape: "star", seed: 99, width: 48, height: 48 }),
    );
    await rm(join(dir, "shape-1.png"));
    await copyFile(join(dir, "shape-2.png"), join(dir, "copy-of-2.png"));
    const summary = await indexFoldersQueued([dir], options());
    expect(summary).toMatchObject({
      added: 1,
      updated: 1,
      removed: 1,
      unchanged: 9,
      failed: 1,
      batches: 1,
      entries: 9,
    });
    const paths = (await rows()).flatMap((r) => r.paths);
    expect(paths).not.toContain(join(dir, "shape-1.png"));
    expect(paths).toContain(join(dir, "copy-of-2.png"));
  }, 120_000);

  it("with no --model uses the store's model; a store filled by another model is refused", async () => {
    const { model: _model, ...withoutModel } = options();
    const summary = await indexFoldersQueued([dir], withoutModel);
    expect(summary.added).toBe(0);
    expect(summary.model).toBe(TINY_CLIP);
    // Another model's record for the table: the coordinator must refuse before queueing anything.
    const client = new pg.Client(postgres.url);
    await client.connect();
    await client.query(
      `INSERT INTO langchain_image_embeddings_stores (table_name, model, dimension) VALUES ('other_images', 'Xenova/clip-vit-base-patch32', 512)`,
    );
    await client.end();
    const refused = indexFoldersQueued([dir], { ...options(), tableName: "other_images" });
    await expect(refused).rejects.toBeInstanceOf(StoreModelMismatchError);
    await expect(refused).rejects.toThrow("Xenova/clip-vit-base-patch32");
  }, 120_000);

  it("an unreachable Redis or Postgres URL fails within the timeout, naming the URL without its password", async () => {
    const port = await freePort();
    const started = performance.now();
    const badQueue = indexFoldersQueued([dir], {
      ...options(),
      queue: `redis://:hunter2@127.0.0.1:${port}`,
      connectTimeoutMs: 2000,
    });
    await expect(badQueue).rejects.toBeInstanceOf(QueueConnectionError);
    await expect(badQueue).rejects.toThrow(`redis://:***@127.0.0.1:${port}`);
    await expect(badQueue).rejects.not.toThrow("hunter2");
    const badStore = indexFoldersQueued([dir], {
      ...options(),
      store: `postgres://me:hunter2@127.0.0.1:${port}/db`,
      connectTimeoutMs: 2000,
    });
    await expect(badStore).rejects.toBeInstanceOf(StoreConnectionError);
    await expect(badStore).rejects.toThrow(`postgres://me:***@127.0.0.1:${port}/db`);
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 60_000);

  it("--exclude leaves files out: their stored paths are removed, the entries kept for the other copies", async () => {
    const summary = await indexFoldersQueued([dir], { ...options(), exclude: ["copy-of-*"] });
    expect(summary).toMatchObject({ found: 10, added: 0, removed: 2, batches: 1, entries: 9 });
    const paths = (await rows()).flatMap((r) => r.paths);
    expect(paths.filter((p) => p.includes("copy-of-"))).toEqual([]);
    expect(paths).toContain(join(dir, "shape-2.png"));
  }, 120_000);

  it("a batch whose attempt throws (a model no worker can load) is retried with exponential backoff, then fails", async () => {
    const { Queue, QueueEvents } = await import("bullmq");
    const queue = new Queue("image-embeddings", { connection: { url: redis.url } });
    const events = new QueueEvents("image-embeddings", { connection: { url: redis.url } });
    await events.waitUntilReady();
    try {
      const job = await queue.add(
        "embed",
        {
          model: join(dir, "no-such-model"),
          tableName: "image_embeddings",
          items: [{ hash: "0".repeat(64), paths: [join(dir, "shape-2.png")] }],
        },
        { jobId: "retry-check", attempts: 3, backoff: { type: "exponential", delay: 300 } },
      );
      await expect(job.waitUntilFinished(events)).rejects.toThrow(/no-such-model/);
      const finished = (await queue.getJob("retry-check"))!;
      expect(finished.attemptsMade).toBe(3);
      // Backoff between the tries: 300 ms, then 600 ms.
      expect(finished.finishedOn! - finished.timestamp).toBeGreaterThanOrEqual(900);
    } finally {
      await events.close();
      await queue.close();
    }
  }, 60_000);

  it("close() (what SIGTERM calls) lets the batch in flight finish and store; another worker takes the rest", async () => {
    const more = join(dir, "more");
    await mkdir(more);
    for (let i = 0; i < 12; i++) {
      const png = await renderShape({ colour: "purple", shape: "star", seed: 500 + i, width: 48, height: 48 });
      await writeFile(join(more, `star-${i}.png`), png);
    }
    const active = new Promise<string>((resolve) => worker.worker.once("active", (job) => resolve(job.id!)));
    const coordinator = indexFoldersQueued([more], options());
    const inFlight = await active;
    await worker.close();
    const { Queue } = await import("bullmq");
    const queue = new Queue("image-embeddings", { connection: { url: redis.url } });
    try {
      expect(await (await queue.getJob(inFlight))!.getState()).toBe("completed");
    } finally {
      await queue.close();
    }
    worker = await startIndexWorker({ queue: redis.url, store: postgres.url });
    const summary = await coordinator;
    expect(summary).toMatchObject({ added: 12, failed: 0, batches: 3 });
  }, 120_000);
});
