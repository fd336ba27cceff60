/**
 * Indexing through the queue, end to end: a real Redis and Postgres + pgvector (PGlite),
 * `workers` worker processes (queue_worker.ts) of `threads` onnxruntime threads each, and
 * the coordinator (`indexFoldersQueued`) in this process. The workers load the model on a
 * warm-up run over other images first (batches of one, so that every worker gets one),
 * then the timed run indexes `timedDir` into the same table.
 */
import { loadavg } from "node:os";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { indexFoldersQueued } from "../../src/distributed/queued_indexer.js";
import { startPgliteServer } from "../../test/helpers/pglite_server.js";
import { startRedisServer } from "../../test/helpers/redis_server.js";
import { measure, readArgs, report } from "./child.js";

const args = readArgs<{
  model: string;
  timedDir: string;
  warmDir: string;
  workers: number;
  threads: number;
  batchSize: number;
  batchSeconds: number;
}>();

interface WorkerProcess {
  child: ChildProcess;
  batches: { seconds: number; stored: number; cpuSeconds: number }[];
  result: Promise<Record<string, number>>;
}

function startWorker(queue: string, store: string): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "../../node_modules/tsx/dist/cli.mjs"), join(import.meta.dirname, "queue_worker.ts")],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  child.stdin!.end(JSON.stringify({ queue, store, threads: args.threads, batchSeconds: args.batchSeconds }));
  const worker: WorkerProcess = { child, batches: [], result: Promise.resolve({}) };
  const lines = createInterface({ input: child.stdout! });
  let resolveResult: (r: Record<string, number>) => void;
  worker.result = new Promise((resolve) => (resolveResult = resolve));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`a queue worker exited with code ${code} before it was ready`)));
    lines.on("line", (line) => {
      if (line === "READY") resolve(worker);
      else if (line.startsWith("BATCH ")) worker.batches.push(JSON.parse(line.slice(6)));
      else if (line.startsWith("RESULT ")) resolveResult(JSON.parse(line.slice(7)));
    });
  });
}

const [redis, postgres] = await Promise.all([startRedisServer(), startPgliteServer({ maxConnections: 16 })]);
const workers: WorkerProcess[] = [];
try {
  workers.push(
    ...(await Promise.all(Array.from({ length: args.workers }, () => startWorker(redis.url, postgres.url)))),
  );
  const options = { queue: redis.url, store: postgres.url, model: args.model, hnswIndexAt: Infinity };
  const warm = await indexFoldersQueued([args.warmDir], { ...options, batchSize: 1 });
  if (warm.failed > 0) throw new Error(`warm-up failed: ${JSON.stringify(warm.failures)}`);
  const warmed = workers.map((w) => w.batches.length);
  const warmUpCpu = workers.map((w) => w.batches.at(-1)?.cpuSeconds ?? 0);
  for (const w of workers) w.batches = [];

  const run = await measure(() => indexFoldersQueued([args.timedDir], { ...options, batchSize: args.batchSize }));
  const summary = run.value;
  if (summary.failed > 0) throw new Error(`the timed run failed: ${JSON.stringify(summary.failures)}`);
  for (const w of workers) w.child.kill("SIGTERM");
  const results = await Promise.all(workers.map((w) => w.result));
  const batchSeconds = workers.flatMap((w) => w.batches.map((b) => b.seconds));
  report({
    // The machine's 1, 5 and 15-minute load averages when this run ended (the cores are shared).
    loadAverage: loadavg(),
    workers: args.workers,
    threads: args.threads,
    images: summary.added,
    batches: summary.batches,
    seconds: run.seconds,
    // Every worker loaded the model before the timed run when each has at least one warm-up batch.
    warmUpBatchesPerWorker: warmed,
    batchesPerWorker: workers.map((w) => w.batches.length),
    workerBatchSecondsTotal: batchSeconds.reduce((a, b) => a + b, 0),
    // Of the timed run only: each worker's CPU at the end less its CPU after its last warm-up batch.
    workerCpuSeconds: results.reduce((s, r, i) => s + r.cpuSeconds - warmUpCpu[i], 0),
    workerCpuSecondsCountsWarmUp: false,
    coordinatorCpuSeconds: run.cpuSeconds,
    workersPeakRssMb: results.map((r) => r.peakRssMb),
  });
} finally {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
  await Promise.all([redis.stop(), postgres.stop()]);
}
