/**
 * The distributed run, as users run it: the built `image-embeddings` command as a
 * coordinator and two worker processes, a real Redis and a real Postgres + pgvector
 * (PGlite) in child processes, tiny-clip, and several hundred generated images with
 * duplicate contents and corrupt files. One worker is SIGKILLed mid-batch; its batch must
 * run on the other one, and every content must land exactly once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Queue, QueueEvents } from "bullmq";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, collect, ensureBuilt, parseJson, runCli, type CliResult } from "../cli/helpers.js";
import { ROOT, TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { startPgliteServer, type PgliteServer } from "../helpers/pglite_server.js";
import { freePort, startRedisServer, type RedisServer } from "../helpers/redis_server.js";
import { CLASSES, renderShape } from "../helpers/shapes.js";

const IMAGES = 520;
const DUPLICATES = 24;
const CORRUPT = 4;
const BATCH = 16;

interface Summary {
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  failed: number;
  entries: number;
  batches: number;
  failures: { path: string; reason: string; code?: string }[];
}

/** Writes `count` distinct small images (and returns their paths). */
async function writeImages(dir: string, count: number, seedBase: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const { colour, shape } = CLASSES[i % CLASSES.length];
    const path = join(dir, `${String(i).padStart(4, "0")}-${colour}-${shape}.png`);
    await writeFile(path, await renderShape({ colour, shape, seed: seedBase + i, width: 40, height: 40 }));
    paths.push(path);
  }
  return paths;
}

async function distinctContents(paths: string[]): Promise<number> {
  const hashes = await Promise.all(
    paths.map(async (p) =>
      createHash("sha256")
        .update(await readFile(p))
        .digest("hex"),
    ),
  );
  return new Set(hashes).size;
}

describe("distributed indexing: a coordinator and 2 worker processes", () => {
  let redis: RedisServer;
  let postgres: PgliteServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let good: string[] = [];
  const corrupt: string[] = [];
  const workers: { child: ChildProcess; result: Promise<CliResult>; stderr: () => string }[] = [];

  const startWorker = () => {
    const child = spawn(
      process.execPath,
      [CLI, "worker", "--queue", redis.url, "--store", postgres.url, "--batch-seconds", "1"],
      { cwd: ROOT, env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const worker = { child, result: collect(child), stderr: () => stderr };
    workers.push(worker);
    return worker;
  };
  const countRows = async () => {
    const client = new pg.Client(postgres.url);
    await client.connect();
    try {
      const { rows } = await client.query("SELECT count(*)::int AS n FROM image_embeddings");
      return rows[0].n as number;
    } finally {
      await client.end();
    }
  };
  const index = (folder: string, extra: string[] = []) =>
    runCli([
      "index",
      folder,
      "--queue",
      redis.url,
      "--store",
      postgres.url,
      "--model",
      TINY_CLIP,
      "--json",
      "--no-progress",
      "--batch-size",
      String(BATCH),
      ...extra,
    ]);

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("lie-distributed-"));
    [redis, postgres] = await Promise.all([startRedisServer(), startPgliteServer(), ensureBuilt()]);
    const gallery = join(dir, "gallery");
    good = await writeImages(gallery, IMAGES, 1);
    // The same bytes under other names: stored once, with all their paths.
    for (let i = 0; i < DUPLICATES; i++) {
      const copy = join(gallery, `copy-${i}.png`);
      await copyFile(good[i * 7], copy);
      good.push(copy);
    }
    // Corrupt files spread over several batches: each is reported, the rest of its batch is stored.
    for (let i = 0; i < CORRUPT; i++) {
      const whole = await readFile(good[i * 100 + 3]);
      const path = join(gallery, `${String(i * 100 + 3).padStart(4, "0")}-broken.png`);
      await writeFile(path, whole.subarray(0, Math.floor(whole.length / 3)));
      corrupt.push(path);
    }
  }, 300_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    await Promise.all([redis?.stop(), postgres?.stop()]);
    await cleanup?.();
  });

  it(`indexes ${IMAGES + DUPLICATES} images with a worker SIGKILLed mid-batch: every content once, corrupt files reported, a re-run adds 0`, async () => {
    const queue = new Queue("image-embeddings", { connection: { url: redis.url } });
    const events = new QueueEvents("image-embeddings", { connection: { url: redis.url } });
    let stalled = 0;
    events.on("stalled", () => stalled++);
    await events.waitUntilReady();
    try {
      const [victim] = [startWorker(), startWorker()];
      const started = performance.now();
      const coordinator = index(join(dir, "gallery"));

      // Kill the first worker while it holds a batch: after it finished one, when both are busy.
      while (!/stored/.test(victim.stderr())) await new Promise((r) => setTimeout(r, 20));
      while ((await queue.getActiveCount()) < 2) await new Promise((r) => setTimeout(r, 5));
      victim.child.kill("SIGKILL");

      const result = await coordinator;
      const seconds = (performance.now() - started) / 1000;
      const summary = parseJson<Summary>(result);
      expect(result.code, result.stderr).toBe(0);
      const distinct = await distinctContents(good);
      expect(summary).toMatchObject({ added: good.length, updated: 0, removed: 0, unchanged: 0, failed: CORRUPT });
      expect(summary.failures.map((f) => f.path).sort()).toEqual([...corrupt].sort());
      for (const f of summary.failures) expect(f.code).toBe("CORRUPT_IMAGE");
      expect(await countRows()).toBe(distinct);
      expect(summary.entries).toBe(distinct);
      // The killed worker's batch was noticed as stalled and run again elsewhere.
      expect(stalled).toBeGreaterThanOrEqual(1);
      expect((await victim.result).signal).toBe("SIGKILL");
      console.log(
        `distributed run: ${good.length + CORRUPT} files, ${summary.batches} batches, ${seconds.toFixed(1)} s`,
      );

      const again = parseJson<Summary>(await index(join(dir, "gallery")));
      expect(again).toMatchObject({
        added: 0,
        updated: 0,
        removed: 0,
        unchanged: good.length,
        failed: CORRUPT,
        batches: 1,
      });
      expect(await countRows()).toBe(distinct);
    } finally {
      await events.close();
      await queue.close();
    }
  }, 300_000);

  it("two coordinators at once over the same new folder queue each batch once, and store each content once", async () => {
    if (workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).length < 2) startWorker();
    const more = await writeImages(join(dir, "more"), 80, 10_000);
    const before = await countRows();
    const queue = new Queue("image-embeddings", { connection: { url: redis.url } });
    try {
      const completedBefore = await queue.getCompletedCount();
      const [a, b] = await Promise.all([index(join(dir, "more")), index(join(dir, "more"))]);
      const [sa, sb] = [parseJson<Summary>(a), parseJson<Summary>(b)];
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      // One ran the batches; the other waited for it (one coordinator per table), then found them stored.
      const [ran, waited] = sa.batches > 0 ? [sa, sb] : [sb, sa];
      expect(ran).toMatchObject({ batches: Math.ceil(80 / BATCH), added: 80, failed: 0 });
      expect(waited).toMatchObject({ batches: 0, added: 0, unchanged: 80, failed: 0 });
      expect(await queue.getCompletedCount()).toBe(completedBefore + ran.batches);
      expect(await countRows()).toBe(before + (await distinctContents(more)));
    } finally {
      await queue.close();
    }
  }, 180_000);

  it("search --store prints what a search of the same images in a FAISS folder prints, by image and by text", async () => {
    const folder = join(dir, "faiss-index");
    const local = await runCli([
      "index",
      join(dir, "gallery"),
      join(dir, "more"),
      "--index",
      folder,
      "--model",
      TINY_CLIP,
      "--json",
      "--no-progress",
    ]);
    expect(local.code, local.stderr).toBe(0);
    const query = good.find((p) => p.endsWith("red-circle.png"))!;
    type Hits = { results: { rank: number; score: number; id: string; path: string; paths: string[] }[] };
    for (const args of [["--image", query], ["a red circle"]]) {
      const fromStore = await runCli(["search", ...args, "--store", postgres.url, "-k", "5", "--json"]);
      const fromFolder = await runCli(["search", ...args, "--index", folder, "-k", "5", "--json"]);
      expect(fromStore.code, fromStore.stderr).toBe(0);
      const [a, b] = [parseJson<Hits>(fromStore).results, parseJson<Hits>(fromFolder).results];
      expect(a).toHaveLength(5);
      expect(a.map((h) => h.paths)).toEqual(b.map((h) => h.paths));
      // The same ids too: the content hash, not the row's uuid.
      expect(a.map((h) => h.id)).toEqual(b.map((h) => h.id));
      for (const hit of a) expect(hit.id).toMatch(/^[0-9a-f]{64}$/);
      a.forEach((hit, i) => expect(hit.score).toBeCloseTo(b[i].score, 4));
      // The query image itself is left out, as in the folder search.
      expect(a.flatMap((h) => h.paths)).not.toContain(args[0] === "--image" ? query : "");
    }
    const text = await runCli(["search", "a red circle", "--store", postgres.url, "-k", "3"]);
    expect(text.stdout).toMatch(/^rank\s+score\s+path/);
  }, 120_000);

  it("workers stop on SIGTERM after their batch; unreachable URLs fail fast, naming them without the password", async () => {
    const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    for (const w of alive) w.child.kill("SIGTERM");
    for (const w of alive) {
      const r = await w.result;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("Worker stopped");
    }
    const port = await freePort();
    const started = performance.now();
    const badQueue = await runCli([
      "index",
      dir,
      "--queue",
      `redis://:hunter2@127.0.0.1:${port}`,
      "--store",
      postgres.url,
      "--model",
      TINY_CLIP,
    ]);
    expect(badQueue.code).toBe(1);
    expect(badQueue.stderr).toContain(`Cannot connect to the queue at redis://:***@127.0.0.1:${port}`);
    const badStore = await runCli([
      "worker",
      "--queue",
      redis.url,
      "--store",
      `postgres://me:hunter2@127.0.0.1:${port}/photos`,
    ]);
    expect(badStore.code).toBe(1);
    expect(badStore.stderr).toContain(`Cannot connect to the store at postgres://me:***@127.0.0.1:${port}/photos`);
    const badSearch = await runCli(["search", "x", "--store", `postgres://me:hunter2@127.0.0.1:${port}/photos`]);
    expect(badSearch.code).toBe(1);
    expect(badSearch.stderr).toContain(`postgres://me:***@127.0.0.1:${port}/photos`);
    for (const r of [badQueue, badStore, badSearch]) expect(r.stderr).not.toContain("hunter2");
    expect(performance.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
