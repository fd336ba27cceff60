/**
 * `npm run bench`: the performance suite (not part of the tests). Every contender runs
 * in its own child process (fresh memory; onnxruntime-node allows one inference thread
 * per process), and contenders that are compared run side by side, interleaved in the
 * same run, so the ratios hold even on a noisy machine. Writes docs/benchmarks.md: a full run
 * the whole file (keeping the sections it did not write at the end), a run with --only just its
 * own sections and Targets rows, each section with the date, CPU and command of this run.
 *
 *   npm run bench                      # everything (the first run builds HNSW32 over 1M vectors: 93 minutes on 2 cores with faiss's generic kernels)
 *   npm run bench -- --quick           # fewer images and repetitions, no 1M vectors
 *   npm run bench -- --only indexing,text,search,clustered,bulk,training,memory,serve,pool,distributed,pgvector
 *   npm run bench -- --only search --vectors 100000   # search over these sizes only
 *   npm run bench -- --only distributed --pgvector-vectors 30000   # pgvector against FAISS at this size (default 100,000)
 *   npm run bench -- --only pgvector                 # pgvector against FAISS alone (the distributed section's last part)
 * Each run first measures this machine's fp32 FMA peak (bench/ceiling/fma_peak.c) for "fraction of ceiling".
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { physicalCoreCount } from "../src/models/cpu_cores.js";
import { benchImages, IMAGE_SIZES, type ImageSize } from "./images.js";
import {
  measuredLine,
  renderReport,
  resultsOf,
  TARGET_NOTE_OPENINGS,
  writeReport,
  writeWhole,
  type Report,
} from "./report.js";
import { spliceReport } from "./splice_report.js";

const ROOT = resolve(import.meta.dirname, "..");
const CACHE = join(ROOT, ".cache/bench");
const BENCH_MODEL = join(ROOT, ".cache/models/bench-vit-b32");
const TINY_CLIP = join(ROOT, "test/fixtures/models/tiny-clip");
const PYTHON = join(ROOT, ".venv/bin/python");
const SECTIONS = [
  "indexing",
  "text",
  "search",
  "clustered",
  "bulk",
  "training",
  "memory",
  "serve",
  "pool",
  "distributed",
  "pgvector",
] as const;

const { values: options } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    vectors: { type: "string" },
    "pgvector-vectors": { type: "string" },
  },
});
const quick = options.quick!;
// "pgvector" is the distributed section's last part, for running it alone: a full run has it once.
const only = new Set(options.only ? options.only.split(",") : SECTIONS.filter((s) => s !== "pgvector"));
const unknown = [...only].filter((name) => !(SECTIONS as readonly string[]).includes(name));
if (unknown.length)
  throw new Error(`--only: no section named ${unknown.join(", ")} (sections: ${SECTIONS.join(", ")})`);
const plan = quick
  ? {
      reps: 1,
      web: 32,
      camera: 8,
      texts: 64,
      searchCounts: [100_000],
      clusteredCounts: [100_000],
      bulk: 20_000,
      memory: [500, 1000, 1500],
      pgvector: 10_000,
    }
  : {
      reps: 3,
      web: 96,
      camera: 24,
      texts: 256,
      searchCounts: [100_000, 1_000_000],
      clusteredCounts: [100_000],
      bulk: 100_000,
      memory: [1000, 3000, 5000],
      pgvector: 100_000,
    };

// --vectors 100000 searches only the sizes given (building HNSW32 over 1M vectors took 93 minutes here, generic kernels).
if (options.vectors) plan.searchCounts = plan.clusteredCounts = options.vectors.split(",").map(Number);
if (options["pgvector-vectors"]) plan.pgvector = Number(options["pgvector-vectors"]);

type Result = Record<string, any>;

/** Runs a contender in a child process and returns its RESULT line. */
function child(command: string[], input: unknown, label: string, env: Record<string, string> = {}): Result {
  const started = performance.now();
  const run = spawnSync(command[0], command.slice(1), {
    cwd: ROOT,
    input: JSON.stringify(input),
    encoding: "utf8",
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
  });
  const line = run.stdout?.split("\n").find((l) => l.startsWith("RESULT "));
  if (run.status !== 0 || !line) throw new Error(`${label} failed (exit ${run.status}):\n${run.stderr?.slice(-3000)}`);
  console.log(`  ${label}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return JSON.parse(line.slice("RESULT ".length));
}
const tsx = (script: string) => [
  process.execPath,
  join(ROOT, "node_modules/tsx/dist/cli.mjs"),
  join(ROOT, "bench/contenders", script),
];
const hasPython = existsSync(PYTHON) && existsSync(join(BENCH_MODEL, "pytorch"));

async function indexing(report: Report) {
  for (const size of ["web", "camera"] as ImageSize[]) {
    const paths = await benchImages(CACHE, size, size === "web" ? plan.web : plan.camera);
    const runs: Record<string, Result[]> = { ours: [], oursQ8: [], naive: [], torch: [], oursNormalPriority: [] };
    for (let rep = 0; rep < plan.reps; rep++) {
      console.log(`indexing ${size}, repetition ${rep + 1}/${plan.reps}`);
      runs.ours.push(
        child(
          tsx("ours_index.ts"),
          { model: BENCH_MODEL, paths, dtype: "fp32", batchSize: 16, inference: "worker" },
          "ours fp32",
        ),
      );
      runs.oursQ8.push(
        child(
          tsx("ours_index.ts"),
          { model: BENCH_MODEL, paths, dtype: "q8", batchSize: 16, inference: "worker" },
          "ours q8",
        ),
      );
      runs.naive.push(
        child(tsx("naive_index.ts"), { model: BENCH_MODEL, paths, dtype: "fp32" }, "naive transformers.js"),
      );
      if (size === "web") {
        // The worker's lowered priority (tower_worker.ts), against the same run without it.
        const fp32 = { model: BENCH_MODEL, paths, dtype: "fp32", batchSize: 16, inference: "worker" };
        runs.oursNormalPriority.push(
          child(tsx("ours_index.ts"), fp32, "ours fp32, worker at normal priority", {
            IMAGE_EMBEDDINGS_WORKER_NICE: "0",
          }),
        );
      }
      if (hasPython) {
        runs.torch.push(
          child(
            [PYTHON, join(ROOT, "bench/contenders/torch_index.py")],
            { torch_dir: join(BENCH_MODEL, "pytorch"), paths, batch_size: 16, threads: cpus().length },
            "PyTorch",
          ),
        );
      }
    }
    if (size === "web") {
      console.log("indexing web, main-thread inference (event loop comparison)");
      runs.oursMain = [
        child(
          tsx("ours_index.ts"),
          { model: BENCH_MODEL, paths, dtype: "fp32", batchSize: 16, inference: "main" },
          "ours fp32, inference: main",
        ),
      ];
    }
    report.indexing[size] = { images: paths.length, ...IMAGE_SIZES[size], runs };
  }
  report.q8Cosine = child(
    tsx("q8_cosine.ts"),
    { model: TINY_CLIP, paths: await benchImages(CACHE, "web", 32) },
    "q8 vs fp32 cosine (tiny-clip)",
  );
}

/** A pool of inference workers against one: the same cores as threads of one worker, or one thread per worker. */
async function pool(report: Report) {
  const cores = physicalCoreCount();
  const layouts = [
    { workers: 1, threads: cores },
    { workers: cores, threads: 1 },
  ];
  report.pool = { cores, layouts, sizes: {} };
  for (const size of ["web", "camera"] as ImageSize[]) {
    const paths = await benchImages(CACHE, size, size === "web" ? plan.web : plan.camera);
    const runs: Result[][] = layouts.map(() => []);
    for (let rep = 0; rep < Math.max(3, plan.reps); rep++) {
      console.log(`pool ${size}, repetition ${rep + 1}`);
      layouts.forEach(({ workers, threads }, i) =>
        runs[i].push(
          child(
            tsx("ours_index.ts"),
            { model: BENCH_MODEL, paths, dtype: "fp32", batchSize: 16, inference: "worker", workers, threads },
            `ours fp32, ${workers} worker(s) × ${threads} thread(s)`,
          ),
        ),
      );
    }
    report.pool.sizes[size] = { images: paths.length, ...IMAGE_SIZES[size], runs };
  }
}

async function text(report: Report) {
  const texts = Array.from(
    { length: plan.texts },
    (_, i) =>
      `a photo of a ${["red", "small", "happy", "old"][i % 4]} ${["dog", "car", "house", "tree", "beach"][i % 5]} number ${i}`,
  );
  const runs: Record<string, Result[]> = { ours: [], oursQ8: [], naive: [] };
  for (let rep = 0; rep < plan.reps; rep++) {
    console.log(`text, repetition ${rep + 1}/${plan.reps}`);
    runs.ours.push(
      child(tsx("ours_text.ts"), { model: BENCH_MODEL, texts, batchSize: 64, dtype: "fp32" }, "ours fp32"),
    );
    runs.oursQ8.push(child(tsx("ours_text.ts"), { model: BENCH_MODEL, texts, batchSize: 64, dtype: "q8" }, "ours q8"));
    runs.naive.push(child(tsx("naive_text.ts"), { model: BENCH_MODEL, texts }, "naive transformers.js"));
  }
  report.text = { texts: texts.length, runs };
}

async function search(report: Report) {
  for (const count of plan.searchCounts) {
    console.log(`search over ${count} vectors`);
    report.search[count] = child(
      tsx("search.ts"),
      {
        model: BENCH_MODEL,
        count,
        queries: count >= 1_000_000 ? 50 : 200,
        textQueries: 30,
        indexTypes: ["Flat", "HNSW32"],
        efSearch: 128,
        efSweep: [64, 256, 512, 1024],
        saveLoad: count === plan.searchCounts.at(-1),
        // HNSW32 over 1M took an hour and a half to build (generic kernels): kept, and reused by later runs.
        builtIndexes: join(CACHE, "built"),
        keep: count >= 1_000_000 ? ["HNSW32"] : [],
      },
      `Flat and HNSW32, ${count} vectors`,
    );
  }
}

/** HNSW where it is meant to work: vectors in groups, as real embeddings are (the targets are on uniform ones). */
async function clustered(report: Report) {
  for (const count of plan.clusteredCounts) {
    console.log(`search over ${count} clustered vectors`);
    report.searchClustered[count] = child(
      tsx("search.ts"),
      {
        model: BENCH_MODEL,
        count,
        data: "clustered",
        queries: count >= 1_000_000 ? 50 : 200,
        textQueries: 0,
        indexTypes: ["Flat", "HNSW32"],
        efSearch: 128,
        efSweep: [16, 32, 64, 256, 512, 1024],
        saveLoad: false,
        builtIndexes: join(CACHE, "built"),
        keep: count >= 1_000_000 ? ["HNSW32"] : [],
      },
      `Flat and HNSW32, ${count} clustered vectors`,
    );
  }
}

async function bulk(report: Report) {
  console.log(`bulk add of ${plan.bulk} vectors`);
  const results = child(
    tsx("bulk_add.ts"),
    {
      count: plan.bulk,
      slowCount: plan.bulk / 5,
      arrayCount: plan.bulk / 50,
      othersCount: plan.bulk / 20,
      reps: Math.min(plan.reps, 2),
      maxSeconds: 60,
      indexTypes: ["Flat", "IVF256,Flat", "IVF1024,Flat", "IVF4096,PQ64", "IVF4096_HNSW32,PQ64"],
      threads: [1, 2],
      // Two vectors per list of IVF4096: enough to place the lists (faiss warns below 39), and
      // trained in seconds rather than minutes; add rates do not depend on the lists' quality.
      trainCount: 8192,
      recallCount: plan.bulk / 5,
      recallNprobe: 16,
    },
    "store and bare adds, Flat and IVF, 1 and 2 threads",
  );
  // The ceiling of this run goes with its results: a later run of other sections measures its own.
  report.bulk = { ...results, ceilingGflops: report.machine.ceilingGflops };
}

async function training(report: Report) {
  const count = quick ? 2000 : 10_000;
  console.log(`training a projection head over ${count} embeddings`);
  report.training = child(
    tsx("train_head.ts"),
    { count, epochs: quick ? 3 : 100, patience: 5, hiddenDim: 512 },
    `trainProjectionHead, ${count} × 512-d`,
  );
}

async function memory(report: Report) {
  const count = plan.memory.at(-1)!;
  console.log(`memory: indexing ${count} web images (generating them the first time)`);
  const paths = await benchImages(CACHE, "web", count);
  report.memory = child(
    tsx("ours_memory.ts"),
    { model: BENCH_MODEL, paths, checkpoints: plan.memory, batchSize: 16 },
    `ours, ${count} images`,
  );
}

async function serve(report: Report) {
  console.log("load test of serve: 50 connections, 30 s, text search (tiny-clip index of 240 images)");
  report.serve = child(
    tsx("serve_load.ts"),
    {
      model: TINY_CLIP,
      workDir: join(CACHE, "serve"),
      connections: 50,
      seconds: quick ? 10 : 30,
      warmUpSeconds: quick ? 5 : 15,
    },
    "autocannon against serve",
  );
}

/**
 * Beyond one machine (issue 16): indexing through the BullMQ queue with 1 worker process
 * against as many as there are cores (the same threads in all), the queue's cost per
 * batch against the same work in one process, Redis memory per batch, and pgvector
 * (PGlite) against FAISS HNSW at `plan.pgvector` vectors. Redis and PGlite are started by
 * each contender (test/helpers), on loopback.
 */
async function distributed(report: Report) {
  const cores = physicalCoreCount();
  const count = plan.web;
  const load = [uptime()];
  // Copies, so that each folder holds only its own images: the warm-up loads the model in every worker.
  const paths = await benchImages(CACHE, "web", count + 2 * cores);
  const timedDir = join(CACHE, "distributed/timed");
  const warmDir = join(CACHE, "distributed/warm");
  for (const [dir, files] of [
    [timedDir, paths.slice(0, count)],
    [warmDir, paths.slice(count)],
  ] as const) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const file of files) await copyFile(file, join(dir, basename(file)));
  }
  const layouts = [
    { workers: 1, threads: cores },
    { workers: cores, threads: 1 },
  ];
  const common = { model: BENCH_MODEL, timedDir, warmDir, batchSize: 16 };
  const runs = { inProcess: [] as Result[], queued: layouts.map(() => [] as Result[]) };
  for (let rep = 0; rep < plan.reps; rep++) {
    console.log(`distributed indexing, repetition ${rep + 1}/${plan.reps}`);
    runs.inProcess.push(
      child(tsx("in_process_index.ts"), { ...common, threads: cores }, `in process, ${cores} threads, pgvector`),
    );
    layouts.forEach(({ workers, threads }, i) =>
      runs.queued[i].push(
        child(
          tsx("queued_index.ts"),
          { ...common, workers, threads, batchSeconds: 4 },
          `queue, ${workers} worker process(es) × ${threads} thread(s)`,
        ),
      ),
    );
  }
  load.push(uptime());
  console.log("Redis memory per batch job");
  const redisMemory = child(
    tsx("redis_memory.ts"),
    { batches: 2000, batchSize: 16, pathLength: 48, model: "/srv/models/clip-vit-base-patch32" },
    "2,000 batches of 16",
  );
  report.pgvector = pgvectorAgainstFaiss();
  load.push(uptime());
  report.distributed = { cores, images: count, layouts, runs, redisMemory, load };
}

/** The distributed section's last part alone: pgvector (PGlite) against FAISS HNSW at `plan.pgvector` vectors. */
async function pgvector(report: Report) {
  report.pgvector = pgvectorAgainstFaiss();
  // Results from before this section existed kept it inside the distributed section's.
  if (report.distributed) delete report.distributed.vectorStores;
}

function pgvectorAgainstFaiss(): Result {
  console.log(`pgvector (PGlite) against FAISS HNSW32, ${plan.pgvector} clustered vectors`);
  return child(
    tsx("pgvector_vs_faiss.ts"),
    {
      model: BENCH_MODEL,
      count: plan.pgvector,
      queries: quick ? 100 : 200,
      exactQueries: 10,
      explainQueries: 20,
      efSearch: 128,
      chunk: 1000,
      // The graph takes about 2.6 kB per 512-d vector (m 16; measured at 2,000), 260 MB at 100,000: Postgres' default,
      // 64MB, would build most of it on disk, several times slower.
      maintenanceWorkMem: "1GB",
      forceIndex: true,
    },
    `pgvector and FAISS, ${plan.pgvector} vectors`,
  );
}

/** `uptime`'s line: how loaded the shared machine was. */
function uptime(): string {
  return execFileSync("uptime", { encoding: "utf8" }).trim();
}

function machine(): Report["machine"] {
  // Read from node_modules directly: some packages do not export their package.json.
  const version = (pkg: string) =>
    JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version as string;
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    onnxruntimeNode: version("onnxruntime-node"),
    transformers: version("@huggingface/transformers"),
    faissNode: version("faiss-node"),
    faissKernels: faissKernels(),
    ...fp32Ceiling(),
    sharp: version("sharp"),
    torch: hasPython
      ? execFileSync(PYTHON, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" }).trim()
      : undefined,
  };
}

/**
 * This machine's fp32 multiply-add peak, measured now (bench/ceiling/fma_peak.c, built for
 * this CPU), so that "fraction of ceiling" reflects the CPU and the load of this run.
 */
function fp32Ceiling(): Record<string, number | string> {
  const binary = join(CACHE, "fma_peak");
  try {
    execFileSync("cc", ["-O2", "-march=native", "-fopenmp", join(ROOT, "bench/ceiling/fma_peak.c"), "-o", binary], {
      stdio: "pipe",
    });
    const peak = JSON.parse(execFileSync(binary, { encoding: "utf8" })) as Record<string, number>;
    console.log(
      `fp32 FMA peak: ${peak.gflopsAllThreads} GFLOP/s on ${peak.threads} threads (${peak.gflopsOneThread} on one)`,
    );
    return {
      // Under load the threads can together get less than one alone: the ceiling is what the better of the two got.
      ceilingGflops: Math.max(peak.gflopsAllThreads, peak.gflopsOneThread),
      ceilingGflopsOneThread: peak.gflopsOneThread,
      ceilingGflopsAllThreads: peak.gflopsAllThreads,
      ceilingThreads: peak.threads,
      ceilingVectorBits: peak.vectorBits,
    };
  } catch (error) {
    return { ceilingWhy: `not measured: ${(error as Error).message.split("\n")[0]}` };
  }
}

/** Which distance kernels faiss-node's addon was built with (scripts/faiss-node/simd-kernels.mjs); search speed hangs on it. */
function faissKernels(): string {
  const record = join(ROOT, "node_modules/faiss-node/build/Release/faiss-kernels.json");
  if (!existsSync(record)) return "faiss-node's prebuilt binary";
  const { kernels, why } = JSON.parse(readFileSync(record, "utf8")) as { kernels: string; why?: string };
  return kernels === "generic" ? `generic (${why})` : kernels;
}

async function main() {
  // Only the sections that run the image model need it.
  const needsModel = [...only].some((s) => !["search", "clustered", "bulk"].includes(s));
  if (needsModel && !existsSync(join(BENCH_MODEL, "onnx/vision_model.onnx"))) {
    throw new Error(`No ${BENCH_MODEL}: run bash bench/setup.sh (npm run bench does) to build it`);
  }
  await mkdir(CACHE, { recursive: true });
  const resultsFile = join(CACHE, "results.json");
  // Sections run with --only keep the other sections' last results.
  const previous: Partial<Report> = existsSync(resultsFile) ? JSON.parse(await readFile(resultsFile, "utf8")) : {};
  // Results from before clustered search had sizes held one object for 100k.
  if (previous.searchClustered?.count)
    previous.searchClustered = { [previous.searchClustered.count]: previous.searchClustered };
  const report: Report = {
    indexing: {},
    search: {},
    searchClustered: {},
    ...previous,
    machine: machine(),
    quick,
    date: new Date().toISOString().slice(0, 10),
  };
  const sections = { indexing, text, search, clustered, bulk, training, memory, serve, pool, distributed, pgvector };
  for (const name of SECTIONS) {
    if (!only.has(name)) continue;
    if (name === "search") for (const count of plan.searchCounts) delete report.search[count];
    if (name === "clustered") for (const count of plan.clusteredCounts) delete report.searchClustered[count];
    await sections[name](report);
    await writeFile(resultsFile, JSON.stringify(report, null, 2));
  }
  const doc = join(ROOT, "docs/benchmarks.md");
  if (options.only) {
    // Only what this run measured: the local results of other sections are often older than the file.
    const ran = SECTIONS.filter((name) => only.has(name));
    const partial = renderReport(resultsOf(report, ran), report);
    const command = `npx tsx bench/run.ts ${process.argv.slice(2).join(" ")}`;
    const previousDoc = await readFile(doc, "utf8").catch(() => "");
    const measured = measuredLine(report, command);
    await writeWhole(doc, spliceReport(previousDoc, partial, { measured, noteOpenings: TARGET_NOTE_OPENINGS }));
    console.log(`wrote the ${ran.join(", ")} sections of docs/benchmarks.md (raw results: ${resultsFile})`);
  } else {
    await writeReport(report, doc);
    console.log(`wrote docs/benchmarks.md (raw results: ${resultsFile})`);
  }
}

await main();
