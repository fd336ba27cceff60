/** Turns the benchmark results into docs/benchmarks.md: tables, ratios and the targets from issue 5. */
import { readFile, rename, writeFile } from "node:fs/promises";
import { median, round } from "./stats.js";

export interface Report {
  machine: Record<string, string | number | undefined>;
  quick: boolean;
  date: string;
  indexing: Record<string, any>;
  q8Cosine?: any;
  text?: any;
  search: Record<string, any>;
  /** By vector count. */
  searchClustered: Record<string, any>;
  bulk?: any;
  training?: any;
  memory?: any;
  serve?: any;
  /** One inference worker with every core against a pool of workers with one thread each. */
  pool?: any;
  /** Queue workers against one process, Redis memory per batch (issue 16); older results also hold `vectorStores`. */
  distributed?: any;
  /** pgvector (PGlite) against FAISS HNSW at one size (issue 16). */
  pgvector?: any;
}

/** The results each section of bench/run.ts writes into the report. */
export const RESULTS_OF_SECTION = {
  indexing: ["indexing", "q8Cosine"],
  text: ["text"],
  search: ["search"],
  clustered: ["searchClustered"],
  bulk: ["bulk"],
  training: ["training"],
  memory: ["memory"],
  serve: ["serve"],
  pool: ["pool"],
  // The distributed section ends with the pgvector comparison.
  distributed: ["distributed", "pgvector"],
  pgvector: ["pgvector"],
} as const satisfies Record<string, (keyof Report)[]>;

export type SectionName = keyof typeof RESULTS_OF_SECTION;

/** A copy of `report` holding only the results of `sections` (and the run's machine and date). */
export function resultsOf(report: Report, sections: Iterable<SectionName>): Report {
  const keys = [...sections].flatMap((section) => RESULTS_OF_SECTION[section]);
  return {
    machine: report.machine,
    quick: report.quick,
    date: report.date,
    indexing: {},
    search: {},
    searchClustered: {},
    ...Object.fromEntries(keys.map((key) => [key, report[key]])),
  };
}

const rate = (r: { images: number; seconds: number }) => r.images / r.seconds;
/** The median over repetitions of a per-repetition ratio: side by side, so noise shared by both cancels. */
const ratio = (a: any[], b: any[], f: (r: any) => number) => median(a.map((r, i) => f(r) / f(b[i])));
const check = (ok: boolean) => (ok ? "✅ met" : "❌ missed");
/** FLOPs of one bench-vit-b32 image (CLIP ViT-B/32's shapes). */
const GFLOPS_PER_IMAGE = 8.8;
const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "–" : `${round(x, 1)} ms`);
/** The median event-loop p99 of Node contenders ("–" for the Python one, which has no event loop). */
const loopDelay = (runs: any[]) => {
  const values = runs.map((r) => r.loopDelayP99Ms).filter((v) => v !== undefined);
  return values.length ? ms(median(values)) : "–";
};

/** Every efSearch measured for one HNSW index, the default one included, by efSearch. */
const hnswPoints = (r: any) =>
  r
    ? [{ efSearch: 128, p50Ms: r.p50Ms, p99Ms: r.p99Ms, recallAt10: r.recallAt10 }, ...(r.sweep ?? [])].sort(
        (a: any, b: any) => a.efSearch - b.efSearch,
      )
    : [];

/**
 * The notes under the Targets table, by the first cell of the row each explains: a partial run that
 * rewrites a row drops the notes that row had (bench/splice_report.ts). Every note starts with one of these.
 */
export const TARGET_NOTE_OPENINGS: Record<string, string[]> = {
  "web, fp32 vs naive transformers.js": ["Web images at 3× naive would be"],
  "HNSW over 1M, p50 / recall@10": ["On 100k random vectors,", "HNSW over 1M uniform random vectors:"],
};

/** A full run: docs/benchmarks.md from the report, with the previous file's sections this run did not write kept at the end. */
export async function writeReport(report: Report, file: string) {
  const out = renderReport(report).split("\n");
  const kept = sectionsNotIn(await readFile(file, "utf8").catch(() => ""), out);
  if (kept.length > 0) {
    out.push(
      "",
      `${KEPT_MARKER} (not measured in this run, so the machine and versions above do not apply to them; ` +
        "the hand-written ones give their own date and command):",
      "",
      ...kept,
    );
  }
  await writeWhole(file, out.join("\n"));
}

/** Written to a temporary file and renamed, so a killed run never leaves half a file. */
export async function writeWhole(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

/** What a partial run says under each section it writes, since the file's header describes another run. */
export function measuredLine(report: Pick<Report, "machine" | "date" | "quick">, command: string): string {
  return `Measured ${report.date}${report.quick ? " (quick run)" : ""} on ${report.machine.cpu}, ${report.machine.cores} cores (\`${command}\`).`;
}

/**
 * The Markdown of docs/benchmarks.md for the results in `report`: the header, the Targets table and a
 * section for each result present. `context` gives the figures one section's row cites from another
 * (the memory section's event-loop delay, the clustered 1M search): the report itself in a full run.
 */
export function renderReport(report: Report, context: Pick<Report, "memory" | "searchClustered"> = report): string {
  const out: string[] = [];
  const m = report.machine;
  // The fp32 ceiling in images/s, from this run's FMA measurement (bench/ceiling/fma_peak.c); undefined when it failed.
  const ceiling = typeof m.ceilingGflops === "number" ? m.ceilingGflops / GFLOPS_PER_IMAGE : undefined;
  const ofCeiling = (imagesPerSecond: number) =>
    ceiling
      ? `${Math.round((100 * imagesPerSecond) / ceiling)}% of the ${round(ceiling, 1)}/s ceiling`
      : "ceiling not measured";
  out.push(
    "# Benchmarks",
    "",
    "Reproduce: `npm run bench` (builds the random-weight `bench-vit-b32` and the Python",
    "environment on first use; add `-- --quick` for a short run, `-- --only search,bulk` for some sections, `-- --vectors 100000` to search",
    "uniform and clustered vectors at that size only). HNSW32 over 1M vectors is slow to build (93 minutes for uniform vectors",
    "with faiss's generic distance kernels, 11 for clustered ones with AVX2 kernels): the first run keeps it in",
    "`.cache/bench/built`, later runs load it.",
    "Every contender runs in its own process; contenders compared with each other run interleaved",
    "in the same run, and ratios are medians of per-repetition ratios, because this machine is noisy.",
    "",
    `Measured ${report.date}${report.quick ? " (quick run)" : ""} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB;`,
    `Node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}, transformers.js ${m.transformers}, faiss-node ${m.faissNode} (distance kernels: ${m.faissKernels ?? "not recorded"}), sharp ${m.sharp}${m.torch ? `, PyTorch ${m.torch}` : ""}.`,
    `Model: \`bench-vit-b32\`, random weights with exactly CLIP ViT-B/32's shapes (${GFLOPS_PER_IMAGE} GFLOPs per image).`,
    typeof m.ceilingGflops === "number"
      ? `fp32 ceiling, measured in this run (bench/ceiling/fma_peak.c, ${m.ceilingVectorBits}-bit FMAs): ${m.ceilingGflops} GFLOP/s ` +
          `(${m.ceilingGflopsOneThread} on one thread, ${m.ceilingGflopsAllThreads} on ${m.ceilingThreads}), so at most ${round(ceiling!, 1)} fp32 images/s; it drops when other work shares the cores.`
      : `fp32 ceiling: ${m.ceilingWhy ?? "not measured"}.`,
    "",
  );

  const headerLines = out.length;
  const targets: string[] = [];
  /** Why a missed target is out of reach, under the table. */
  const notes: string[] = [];
  for (const size of ["web", "camera"]) {
    const x = report.indexing[size];
    if (!x) continue;
    const { ours, oursQ8, naive, torch, oursMain, oursNormalPriority } = x.runs;
    out.push(
      `## Indexing "${size}" images (${x.width}×${x.height} JPEG, ${x.images} files → vectors in the store)`,
      "",
    );
    out.push("| contender | images/s (median) | vs naive | event loop p99 | peak RSS |", "|---|---|---|---|---|");
    const row = (name: string, runs: any[]) =>
      runs?.length
        ? out.push(
            `| ${name} | ${round(median(runs.map(rate)), 1)} | ${round(ratio(runs, naive.slice(0, runs.length), rate), 2)}× | ${loopDelay(runs)} | ${Math.round(median(runs.map((r: any) => r.peakRssMb)))} MB |`,
          )
        : undefined;
    row("ours, fp32 (worker thread)", ours);
    row("ours, q8 (worker thread)", oursQ8);
    if (oursNormalPriority?.length)
      row("ours, fp32, worker at normal priority (IMAGE_EMBEDDINGS_WORKER_NICE=0)", oursNormalPriority);
    if (oursMain) row('ours, fp32, inference: "main"', oursMain);
    row("naive transformers.js (per image, = @llamaindex/clip)", naive);
    if (torch?.length) row("PyTorch (PIL transforms + forward, batches of 16)", torch);
    out.push("");
    if (size === "web") {
      const oursRate = median(ours.map(rate));
      const naiveRate = median(naive.map(rate));
      targets.push(
        `| web, fp32 vs naive transformers.js | ≥ 3.0× | ${round(ratio(ours, naive, rate), 2)}× | ${check(ratio(ours, naive, rate) >= 3)} |`,
      );
      if (ratio(ours, naive, rate) < 3) {
        notes.push(
          `Web images at 3× naive would be ${round(3 * naiveRate, 1)} images/s (${ofCeiling(3 * naiveRate)} for fp32 ViT-B/32 at ` +
            `${GFLOPS_PER_IMAGE} GFLOPs each): the naive path is already at ${round(naiveRate, 1)}; ours reached ${round(median(ours.map(rate)), 1)} in this run. q8 goes past it.`,
        );
      }
      if (torch?.length)
        targets.push(
          `| web, fp32 vs PyTorch | ≥ 1.5× | ${round(ratio(ours, torch, rate), 2)}× | ${check(ratio(ours, torch, rate) >= 1.5)} |`,
        );
      targets.push(
        `| web, fp32 images/s (${ofCeiling(oursRate)}) | ≥ 15 | ${round(oursRate, 1)} | ${check(oursRate >= 15)} |`,
      );
      const q8 = ratio(oursQ8, ours, rate);
      targets.push(`| q8 vs fp32 throughput (web) | ≥ 1.4× | ${round(q8, 2)}× | ${check(q8 >= 1.4)} |`);
      // Judged on the long run (memory section, thousands of images): a 96-image run lasts
      // about 3.5 s, so its p99 is its three or four worst 10 ms samples, start-up included.
      const p99 = median(ours.map((r: any) => r.loopDelayP99Ms));
      const sustained = context.memory?.loopDelayP99Ms;
      targets.push(
        sustained === undefined
          ? `| event-loop delay p99 while indexing | ≤ 50 ms | ${round(p99, 1)} ms | ${check(p99 <= 50)} |`
          : `| event-loop delay p99 while indexing | ≤ 50 ms | ${round(sustained, 1)} ms over ${context.memory.images.toLocaleString("en")} images (${round(p99, 1)} ms in the ${x.images}-image runs of about ${round(x.images / median(ours.map(rate)), 1)} s) | ${check(sustained <= 50)} |`,
      );
    } else {
      targets.push(
        `| camera, fp32 vs naive transformers.js | ≥ 4× | ${round(ratio(ours, naive, rate), 2)}× | ${check(ratio(ours, naive, rate) >= 4)} |`,
      );
    }
  }
  if (report.q8Cosine) {
    const c = report.q8Cosine;
    out.push(
      `q8 against fp32 on tiny-clip, ${c.images} web images: minimum cosine ${round(c.minCosine, 4)}, mean ${round(c.meanCosine, 4)}.`,
      "",
    );
    targets.push(
      `| q8 cosine to fp32 (tiny-clip) | ≥ 0.98 | ${round(c.minCosine, 4)} | ${check(c.minCosine >= 0.98)} |`,
    );
  }

  if (report.text) {
    const { ours, oursQ8, naive } = report.text.runs;
    const n = report.text.texts;
    const perSecond = (runs: any[] | undefined, key: string) =>
      runs?.length ? median(runs.map((r: any) => n / r[key])) : undefined;
    const batched = perSecond(ours, "batchedSeconds")!;
    const batchedQ8 = perSecond(oursQ8, "batchedSeconds");
    out.push(`## Text embedding (${n} short queries, about 12 tokens each)`, "");
    out.push(
      "| contender | one at a time (embedQuery), queries/s | batched (embedDocuments, 64 per batch), queries/s |",
      "|---|---|---|",
    );
    out.push(`| ours, fp32 | ${round(perSecond(ours, "singleSeconds")!, 1)} | ${round(batched, 1)} |`);
    if (batchedQ8 !== undefined)
      out.push(`| ours, q8 | ${round(perSecond(oursQ8, "singleSeconds")!, 1)} | ${round(batchedQ8, 1)} |`);
    out.push(`| naive transformers.js | ${round(perSecond(naive, "singleSeconds")!, 1)} | – |`, "");
    targets.push(`| batched short queries/s, fp32 | ≥ 200 | ${round(batched, 1)} | ${check(batched >= 200)} |`);
    if (batchedQ8 !== undefined)
      targets.push(`| batched short queries/s, q8 | ≥ 200 | ${round(batchedQ8, 1)} | ${check(batchedQ8 >= 200)} |`);
  }

  if (report.pool) {
    const { cores, layouts, sizes } = report.pool;
    const name = (l: { workers: number; threads: number }) =>
      `${l.workers} worker${l.workers > 1 ? "s" : ""} × ${l.threads} thread${l.threads > 1 ? "s" : ""}`;
    out.push(
      `## A pool of inference workers (\`workers\`, fp32, batches of 16, ${cores} cores)`,
      "",
      "| images | layout | images/s (median) | pool ÷ one worker (median of per-repetition ratios) | CPU s per image (median) | peak RSS, MB |",
      "|---|---|---|---|---|---|",
    );
    for (const [size, entry] of Object.entries<any>(sizes)) {
      const [single] = entry.runs;
      entry.runs.forEach((runs: any[], i: number) =>
        out.push(
          `| ${entry.images} ${size} (${entry.width}×${entry.height}) | ${name(layouts[i])} | ${round(median(runs.map(rate)), 1)} | ${i === 0 ? "–" : `${round(ratio(runs, single, rate), 2)}×`} | ${round(median(runs.map((r: any) => r.cpuSeconds / r.images)), 3)} | ${round(median(runs.map((r: any) => r.peakRssMb)), 0)} |`,
        ),
      );
    }
    out.push(
      "",
      "Both layouts use every core; each worker holds its own copy of the weights (the RSS column). CPU seconds",
      "count every thread of the process, so they compare the layouts' efficiency even when other work shares the",
      "cores. The pool pays off where its ratio is above 1 and the extra weights fit in memory.",
      "",
    );
  }

  if (report.distributed?.runs || report.distributed?.redisMemory) distributedSection(report.distributed, out);
  const vectorStores = report.pgvector ?? report.distributed?.vectorStores;
  if (vectorStores) pgvectorSection(vectorStores, out);

  const counts = Object.keys(report.search)
    .map(Number)
    .sort((a, b) => a - b);
  if (counts.length) {
    out.push("## Search (random unit vectors, 512-d, k = 10, one query at a time)", "");
    out.push(
      "| vectors | index | build | p50 | p99 | recall@10 vs Flat | text query → top 10, p50 | save | load |",
      "|---|---|---|---|---|---|---|---|---|",
    );
    for (const count of counts) {
      for (const type of ["Flat", "HNSW32"]) {
        const r = report.search[count][type];
        if (!r) continue;
        out.push(
          `| ${count.toLocaleString("en")} | ${type} | ${round(r.buildSeconds, 1)} s${r.buildNote ? ` (${r.buildNote})` : ""} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${r.recallAt10 === undefined ? "(exact)" : round(r.recallAt10, 3)} | ${ms(r.textP50Ms)} | ${r.saveSeconds === undefined ? "–" : `${round(r.saveSeconds, 1)} s`} | ${r.loadSeconds === undefined ? "–" : `${round(r.loadSeconds, 1)} s`} |`,
        );
      }
    }
    out.push(
      "",
      "HNSW32 uses efSearch 128 and efConstruction 40 (the store's defaults). Uniform random vectors are HNSW's hardest case:",
      "in 512 dimensions their cosine similarities concentrate around 0 (standard deviation 1/√512 ≈ 0.044), so a query's",
      "10 nearest neighbours are barely nearer than the rest and a graph walk has little to follow. Real embeddings cluster.",
      `Flat search is one core scanning every vector, with faiss's distance kernels: ${report.machine.faissKernels ?? "not recorded"}. ` +
        "Debian's libfaiss is built for any x86-64; the install compiles these kernels for the CPU when it can (scripts/faiss-node/simd-kernels.mjs).",
      "",
    );
    const rawFlat = counts.filter((count) => report.search[count].Flat?.rawFaissP50Ms !== undefined);
    if (rawFlat.length) {
      out.push(
        "Flat through the store against faiss-node's own IndexFlatIP over the same vectors, each query sent to both in turn:",
        "",
      );
      out.push(
        "| vectors | store p50 | faiss-node alone p50 | the store's share | faiss's scan rate |",
        "|---|---|---|---|---|",
      );
      for (const count of rawFlat) {
        const r = report.search[count].Flat;
        const gigabytes = (count * 512 * 4) / 1e9;
        out.push(
          `| ${count.toLocaleString("en")} | ${ms(r.p50Ms)} | ${ms(r.rawFaissP50Ms)} | ${ms(r.p50Ms - r.rawFaissP50Ms)} | ${round(gigabytes / (r.rawFaissP50Ms / 1000), 1)} GB/s |`,
        );
      }
      out.push("");
    }
    const swept = counts.filter((count) => report.search[count].HNSW32?.sweep?.length);
    if (swept.length) {
      out.push(
        "HNSW32's speed against recall: the same graph loaded with other `efSearch` values (`ImageFaissStore.load(dir, embeddings, { efSearch })`).",
        "",
      );
      out.push("| vectors | efSearch | p50 | p99 | recall@10 vs Flat |", "|---|---|---|---|---|");
      for (const count of swept) {
        for (const p of hnswPoints(report.search[count].HNSW32))
          out.push(
            `| ${count.toLocaleString("en")} | ${p.efSearch} | ${ms(p.p50Ms)} | ${ms(p.p99Ms)} | ${round(p.recallAt10, 3)} |`,
          );
      }
      out.push("");
    }
    const flat100k = report.search[100000]?.Flat;
    if (flat100k)
      targets.push(
        `| Flat over 100k, p50 | ≤ 30 ms | ${round(flat100k.p50Ms, 1)} ms | ${check(flat100k.p50Ms <= 30)} |`,
      );
    const points1m = hnswPoints(report.search[1000000]?.HNSW32);
    if (!points1m.length && report.search[100000]?.HNSW32) {
      const build = report.search[100000].HNSW32.buildSeconds;
      targets.push(
        `| HNSW over 1M, p50 / recall@10 | ≤ 5 ms / ≥ 0.95 | not measured: the build is estimated at over ${round((build * 10) / 60, 0)} minutes (${round(build, 0)} s for 100k) | ❌ not shown |`,
      );
      const best = hnswPoints(report.search[100000].HNSW32)
        .filter((q: any) => q.p50Ms <= 5)
        .at(-1);
      if (best)
        notes.push(
          `On 100k random vectors, the best recall@10 at a p50 of 5 ms or less is ${round(best.recallAt10, 3)} (efSearch ${best.efSearch}); 1M vectors only make it harder (see Search).`,
        );
    }
    if (points1m.length) {
      // The cheapest efSearch that reaches the recall target, else the most accurate one measured.
      const p = points1m.find((q: any) => q.recallAt10 >= 0.95) ?? points1m.at(-1);
      targets.push(
        `| HNSW over 1M, p50 / recall@10 | ≤ 5 ms / ≥ 0.95 | ${round(p.p50Ms, 1)} ms / ${round(p.recallAt10, 3)} (efSearch ${p.efSearch}) | ${check(p.p50Ms <= 5 && p.recallAt10 >= 0.95)} |`,
      );
      const fast = points1m.filter((q: any) => q.p50Ms <= 5).at(-1);
      const flat1m = report.search[1000000].Flat;
      if (!(p.p50Ms <= 5 && p.recallAt10 >= 0.95)) {
        notes.push(
          `HNSW over 1M uniform random vectors: ${fast ? `the best recall@10 at a p50 of 5 ms or less is ${round(fast.recallAt10, 3)} (efSearch ${fast.efSearch})` : "no efSearch measured answers within 5 ms"}, ` +
            `and the most accurate setting measured reaches ${round(points1m.at(-1).recallAt10, 3)} at ${ms(points1m.at(-1).p50Ms)}` +
            (flat1m ? ` (exact Flat search: ${ms(flat1m.p50Ms)}).` : ".") +
            clusteredNote(context.searchClustered?.[1000000]),
        );
      }
    }
  }

  const clusteredCounts = Object.keys(report.searchClustered ?? {})
    .map(Number)
    .sort((a, b) => a - b);
  if (clusteredCounts.length) {
    out.push("## Search over clustered vectors (512-d, k = 10, one query at a time)", "");
    out.push(
      "The same measurement on vectors in 1,000 groups, as embeddings of a photo collection form (bench/stats.ts: each",
      "vector is a group centre plus noise of the same length, so cosine ≈ 0.5 within a group and ≈ 0 across groups), with",
      "queries drawn from the same groups. The targets above are judged on uniform vectors; this is what HNSW does on data",
      "with structure.",
      "",
      "| vectors | index | efSearch | build | p50 | p99 | recall@10 vs Flat |",
      "|---|---|---|---|---|---|---|",
    );
    for (const count of clusteredCounts) {
      const c = report.searchClustered[count];
      const n = count.toLocaleString("en");
      out.push(
        `| ${n} | Flat | – | ${round(c.Flat.buildSeconds, 1)} s | ${ms(c.Flat.p50Ms)} | ${ms(c.Flat.p99Ms)} | (exact) |`,
      );
      for (const p of hnswPoints(c.HNSW32)) {
        out.push(
          `| ${n} | HNSW32 | ${p.efSearch} | ${p.efSearch === 128 ? `${round(c.HNSW32.buildSeconds, 1)} s` : "(same graph)"} | ${ms(p.p50Ms)} | ${ms(p.p99Ms)} | ${round(p.recallAt10, 3)} |`,
        );
      }
    }
    out.push("");
  }

  if (report.bulk) out.push(...bulkSection(report.bulk, m));

  if (report.training) {
    const t = report.training;
    out.push(
      `## Training a projection head (${t.count.toLocaleString("en")} embeddings of 512 dimensions, mlp 512 → 512 → 512)`,
      "",
    );
    out.push(
      `Triplet loss with batch-hard mining, Adam, early stopping (patience 5): ${t.epochs} epochs (best ${t.bestEpoch}) in ${round(t.seconds, 1)} s, ` +
        `${round(t.seconds / t.epochs, 1)} s per epoch with validation. Held-out recall@1 on the synthetic classes: ${round(t.baseline, 3)} before, ${round(t.validation, 3)} after.`,
      "",
      "The matrix products run on onnxruntime's MatMul in the training worker (src/heads/matrix_engine.ts); parameters,",
      "gradients and Adam stay in float32 from end to end, so nothing is converted on the way to onnxruntime. Earlier",
      "versions of the same run: 219.1 s (26 epochs at 8.4 s) with scalar JavaScript matrix loops, then 51 s (27 epochs",
      "at 1.9 s) with onnxruntime products but float64 parameters and gradients.",
      "",
    );
    targets.push(
      `| train a head over 10k × 512-d embeddings (issue 7) | well under a minute | ${round(t.seconds, 1)} s (${t.epochs} epochs) | ${check(t.count >= 10000 && t.seconds <= 30)} |`,
    );
  }

  if (report.memory) {
    const mem = report.memory;
    const points = Object.entries(mem.rssMbAt as Record<string, number>).sort((a, b) => Number(a[0]) - Number(b[0]));
    out.push(`## Memory while indexing ${mem.images.toLocaleString("en")} web images (one store, batches of 16)`, "");
    out.push(
      "| images indexed | RSS |",
      "|---|---|",
      ...points.map(([n, rss]) => `| ${Number(n).toLocaleString("en")} | ${Math.round(rss)} MB |`),
    );
    out.push(
      "",
      `Peak RSS ${Math.round(mem.peakRssMb)} MB; ${round(mem.images / mem.seconds, 1)} images/s; event-loop delay p99 ${round(mem.loopDelayP99Ms, 1)} ms (max ${round(mem.loopDelayMaxMs, 1)} ms).`,
      "",
    );
    const growth = points.length > 1 ? points.at(-1)![1] - points[0][1] : 0;
    targets.push(
      `| peak RSS for ${mem.images} images, flat with count | ≤ 1.2 GB | ${Math.round(mem.peakRssMb)} MB (+${Math.round(growth)} MB from ${points[0]?.[0]} to ${points.at(-1)?.[0]}) | ${check(mem.peakRssMb <= 1229)} |`,
    );
  }

  if (report.serve) {
    const l = report.serve;
    const flat = l.rssEndMb - l.rssStartMb < 0.1 * l.rssStartMb;
    targets.push(
      `| serve under load (issue 6): errors, p99, RSS flat | 0 errors, recorded, flat | ${l.errors + l.timeouts + l.non2xx} errors, p99 ${l.latencyP99Ms} ms, ${Math.round(l.rssStartMb)} → ${Math.round(l.rssEndMb)} MB | ${check(l.errors + l.timeouts + l.non2xx === 0 && flat)} |`,
    );
    out.push(
      `## Load test of \`serve\` (autocannon, ${l.connections} connections, ${l.seconds} s, text search, tiny-clip)`,
      "",
    );
    out.push(
      "| requests | req/s | errors | timeouts | non-2xx | latency p50 | p99 | max | server RSS start → end (max) |",
      "|---|---|---|---|---|---|---|---|---|",
      `| ${l.requests} | ${round(l.requestsPerSecond, 1)} | ${l.errors} | ${l.timeouts} | ${l.non2xx} | ${l.latencyP50Ms} ms | ${l.latencyP99Ms} ms | ${l.latencyMaxMs} ms | ${Math.round(l.rssStartMb)} → ${Math.round(l.rssEndMb)} MB (${Math.round(l.rssMaxMb)}) |`,
      "",
      `After a ${l.warmUp.seconds} s warm-up under the same load (${l.warmUp.requests} requests, ${l.warmUp.errors} errors). Server RSS each second of the measured run: ${l.rssSamplesMb.join(", ")} MB.`,
      "Queries are answered one at a time (each embeds its text), so latency under 50 connections is mostly queueing.",
      "Reproduce alone: `npm run bench -- --only serve`.",
      "",
    );
  }

  const missing = [
    ["indexing", Object.keys(report.indexing ?? {}).length > 0],
    ["text", report.text],
    ["search", Object.keys(report.search ?? {}).length > 0],
    ["bulk", report.bulk],
    ["training", report.training],
    ["memory", report.memory],
    ["serve", report.serve],
    ["distributed", report.distributed?.runs],
    ["pgvector", report.pgvector ?? report.distributed?.vectorStores],
  ].flatMap(([name, present]) => (present ? [] : [name as string]));
  const notRun = missing.length
    ? [`Not measured in this file yet: ${missing.join(", ")} (\`npm run bench -- --only ${missing.join(",")}\`).`, ""]
    : [];
  out.splice(
    headerLines,
    0,
    ...notRun,
    "## Targets (issues 5, 6 and 7)",
    "",
    "| target | goal | measured | |",
    "|---|---|---|---|",
    ...targets,
    "",
    ...notes.flatMap((n) => [n, ""]),
  );
  return out.join("\n");
}

/** Issue 16: worker processes through the queue, the queue's cost per batch, Redis memory. */
function distributedSection(d: any, out: string[]) {
  const { cores, runs, redisMemory: r, load } = d;
  out.push(
    `## Beyond one machine: queue workers, Redis and pgvector (issue 16)`,
    "",
    ...(load
      ? [
          `**Measured on a loaded machine**: the ${cores} cores were shared with other engineers' builds and tests while this ran`,
          `(\`uptime\` at the start, after the indexing runs, and at the end: ${load.map((l: string) => `"${l.replace(/^.*load average/, "load average")}"`).join("; ")};`,
          "each contender's load averages when it ended are in the raw results).",
          "The indexing ratios come from runs interleaved in the same minutes; absolute rates would be higher on an idle machine.",
        ]
      : []),
    "Reproduce: `npm run bench -- --only distributed` (it ends with the pgvector comparison in the next section).",
    "",
  );
  if (runs) queueSection(d, out);
  if (r) {
    out.push(
      `### Redis memory per batch job (${r.batches.toLocaleString("en")} jobs of ${r.batchSize} images, paths of ${r.pathLength} characters)`,
      "",
      "| state | bytes per batch (INFO used_memory, less the event stream) | per image | one job's hash (MEMORY USAGE) |",
      "|---|---|---|---|",
      `| queued (waiting) | ${Math.round(r.bytesPerQueuedBatch).toLocaleString("en")} | ${Math.round(r.bytesPerQueuedBatch / r.batchSize)} | ${r.jobKeyBytes.toLocaleString("en")} |`,
      `| completed (kept a day, with its result) | ${Math.round(r.bytesPerCompletedBatch).toLocaleString("en")} | ${Math.round(r.bytesPerCompletedBatch / r.batchSize)} | ${r.completedJobKeyBytes.toLocaleString("en")} |`,
      "",
      `A job's data is ${r.jobDataBytes.toLocaleString("en")} bytes of JSON. BullMQ's event stream is capped at about 10,000 events`,
      `(${Math.round(r.eventStreamBytes.completed / 1024).toLocaleString("en")} KiB here once full), whatever the number of jobs. Sizing: docs/scaling.md.`,
      "",
    );
  }
}

/** What HNSW32 reaches on 1M clustered vectors, for the note under the targets. */
function clusteredNote(c: any): string {
  const fast = hnswPoints(c?.HNSW32)
    .filter((q: any) => q.p50Ms <= 5)
    .at(-1);
  if (!fast) return " For data with structure, see the clustered measurement below.";
  return ` On 1M clustered vectors (below) the same index reaches recall@10 ${round(fast.recallAt10, 3)} at a p50 of ${ms(fast.p50Ms)} (efSearch ${fast.efSearch}).`;
}

const KEPT_MARKER = "**Kept from the previous version of this file**";

/**
 * The `## ` sections of the previous file whose headings this run did not write: sections
 * written by hand (each with its own date and command) and those of sections not run here.
 * Without this, a run with --only on a machine without earlier results, or any full run,
 * dropped them. Headings are compared without their numbers (counts and core numbers vary).
 */
function sectionsNotIn(previous: string, generated: string[]): string[] {
  const key = (heading: string) => heading.replace(/[\d.,]+/g, "#").trim();
  const written = new Set(generated.filter((line) => line.startsWith("## ")).map(key));
  const kept: string[] = [];
  let keeping = false;
  for (const line of previous.split("\n")) {
    if (line.startsWith(KEPT_MARKER)) continue;
    if (line.startsWith("## ")) keeping = !written.has(key(line));
    else if (line.startsWith("# ")) keeping = false;
    if (keeping) kept.push(line);
  }
  return kept;
}

/** The queue part of issue 16's section: indexing through BullMQ against in process. */
function queueSection(d: any, out: string[]) {
  const { cores, images, layouts, runs } = d;
  const name = (l: { workers: number; threads: number }) =>
    `${l.workers} worker process${l.workers > 1 ? "es" : ""} × ${l.threads} thread${l.threads > 1 ? "s" : ""}`;
  const [one] = runs.queued;
  const perBatch = (x: any) => x.seconds / x.batches;
  out.push(
    `### Indexing ${images} web images (640×480) through the queue, fp32 \`bench-vit-b32\`, batches of 16, ${runs.inProcess.length === 1 ? "one repetition (indicative only)" : `${runs.inProcess.length} interleaved repetitions`}`,
    "",
    "Redis and Postgres + pgvector (PGlite) on loopback; the coordinator (`indexFoldersQueued`) hashes, plans and enqueues,",
    "the worker processes embed and upsert. Each worker loaded the model on a warm-up run over other images first.",
    '"In process" is the same work without the queue: the same batches read, hashed, embedded and upserted into the same store.',
    "",
    "| layout | images/s (median) | ÷ 1 worker process | time per batch (median) | queue's cost per batch (− in process, median) | worker CPU s per image | peak RSS per worker |",
    "|---|---|---|---|---|---|---|",
    `| in process, ${cores} threads | ${round(median(runs.inProcess.map(rate)), 1)} | – | ${round(median(runs.inProcess.map(perBatch)), 2)} s | – | ${round(median(runs.inProcess.map((x: any) => x.cpuSeconds / x.images)), 3)} | ${Math.round(median(runs.inProcess.map((x: any) => x.peakRssMb)))} MB |`,
  );
  layouts.forEach((l: any, i: number) => {
    const q = runs.queued[i];
    // Only one worker process does the in-process work batch after batch; with more, the difference is the layout's.
    const overhead =
      l.workers === 1 ? median(q.map((x: any, rep: number) => perBatch(x) - perBatch(runs.inProcess[rep]))) : undefined;
    out.push(
      `| queue, ${name(l)} | ${round(median(q.map(rate)), 1)} | ${i === 0 ? "–" : `${round(ratio(q, one, rate), 2)}×`} | ${round(median(q.map(perBatch)), 2)} s | ${overhead === undefined ? "–" : `${round(overhead * 1000, 0)} ms (${round((100 * overhead) / median(runs.inProcess.map(perBatch)), 0)}%)`} | ${q.every((x: any) => x.workerCpuSecondsCountsWarmUp === false) ? round(median(q.map((x: any) => x.workerCpuSeconds / x.images)), 3) : "– (counted the model load)"} | ${Math.round(median(q.map((x: any) => Math.max(...x.workersPeakRssMb))))} MB |`,
    );
  });
  const warmed = runs.queued.flat().every((x: any) => x.warmUpBatchesPerWorker.every((n: number) => n > 0));
  out.push(
    "",
    `Ratios are medians of per-repetition ratios. Every worker ${warmed ? "had" : "did **not** always have"} its model loaded before the timed run.`,
    "The queue's cost per batch covers the coordinator's hashing and planning, the round trips through Redis, a second",
    "read and hash of each file by the worker (it checks the content is still the one queued), and the wait for the",
    "completion event; it is measured with one worker process, which does the batches one after another as the",
    "in-process run does. Batches per worker in the multi-process runs: " +
      runs.queued
        .slice(1)
        .flat()
        .map((x: any) => x.batchesPerWorker.join("/"))
        .join(", ") +
      ".",
    "",
  );
}

/** Issue 16: pgvector (PGlite) against FAISS HNSW at one size, on the same vectors and queries. */
function pgvectorSection(v: any, out: string[]) {
  const f = v.faiss;
  const p = v.pgvector;
  out.push(
    `## pgvector (PGlite) against FAISS HNSW, ${v.count.toLocaleString("en")} clustered 512-d vectors, k = 10, ${v.queries} queries one at a time (issue 16)`,
    "",
    `Reproduce: \`npm run bench -- --only pgvector --pgvector-vectors ${v.count}\` (the distributed section runs it too).`,
    "",
    "The same vectors (bench/stats.ts `clusteredUnitVectors`, 1,000 groups) and queries in both; recall@10 against an",
    `exact scan (faiss IndexFlatIP). ef_search ${v.efSearch} in both; each index with its store's defaults. FAISS runs first,`,
    "then pgvector, in one process: not interleaved, so on a loaded machine their ratio carries the load's swings too.",
    "",
    "| store | index | insert, vectors/s | index build | p50 | p99 | recall@10 | on disk |",
    "|---|---|---|---|---|---|---|---|",
    `| ImageFaissStore | ${f.index} (M 32, efConstruction 40) | ${Math.round(f.insertPerSecond).toLocaleString("en")} | (while inserting) | ${ms(f.p50Ms)} | ${ms(f.p99Ms)} | ${round(f.recallAt10, 3)} | – |`,
    `| PgvectorImageStore, pgvector ${p.pgvector} on PGlite | ${p.index} | ${Math.round(p.insertPerSecond).toLocaleString("en")} | ${round(p.buildSeconds, 1)} s (maintenance_work_mem ${p.maintenanceWorkMem}) | ${ms(p.p50Ms)} | ${ms(p.p99Ms)} | ${round(p.recallAt10, 3)} | index ${round(p.indexBytes / 2 ** 20, 0)} MiB, table with indexes ${round(p.tableBytes / 2 ** 20, 0)} MiB |`,
    "",
    `pgvector ÷ FAISS: insert ${round(p.insertPerSecond / f.insertPerSecond, 3)}×, p50 ${round(p.p50Ms / f.p50Ms, 2)}×. ` +
      `Without the index, pgvector's exact scan took ${ms(p.exactP50Ms)} per query (p50 of ${p.exactQueries}).`,
    ...(p.buildServerCpuSeconds === undefined
      ? []
      : [
          `PGlite's own CPU time (its process, from /proc, whatever else ran): ${round(p.insertServerCpuSeconds, 1)} s for the insert, ` +
            `${round(p.buildServerCpuSeconds, 1)} s for the HNSW build (${round((1000 * p.buildServerCpuSeconds) / v.count, 2)} ms a vector); ` +
            (p.graphOutgrewMemoryAfter === null
              ? "the graph fit in maintenance_work_mem."
              : `**the graph outgrew maintenance_work_mem after ${p.graphOutgrewMemoryAfter.toLocaleString("en")} vectors** and the rest was built on disk.`),
        ]),
    `Postgres' own execution time for the same searches (EXPLAIN ANALYZE, ${p.explainedQueries} queries): p50 ${ms(p.serverP50Ms)}; ` +
      `the rest of the p50 is PGlite's cost per query (WASM, the wire protocol). ` +
      (p.usedHnswIndex
        ? `Every plan used the HNSW index${p.forcedIndex ? " (sequential scans were turned off for these queries: at this size the planner may prefer one)" : ""}.`
        : "**The planner did not use the HNSW index for every query**: these figures are partly a sequential scan."),
    f.oneThreadPerQuery === undefined
      ? "FAISS searched each query on faiss' OpenMP default threads (before single queries ran on one thread)."
      : f.oneThreadPerQuery
        ? "FAISS searched each query on one OpenMP thread (`FaissIndex.search`): faiss 1.7.3 opens a parallel region even for one HNSW query, and its idle threads spinning at the barrier made single queries 4-5x slower on this loaded machine."
        : "FAISS searched each query on all OpenMP threads: **this addon has no setNumThreads** (rebuild it: `node scripts/install-faiss-node.mjs`), and on a loaded machine idle OpenMP threads spinning at faiss' barrier slow single HNSW queries several times.",
    `Load averages when this part ended: ${v.loadAverage ? v.loadAverage.map((x: number) => round(x, 1)).join(", ") : "not recorded"}.`,
    "pgvector's insert writes rows with their Documents through `addVectors` (INSERT … ON CONFLICT, 500 rows a statement,",
    "each vector in pgvector's binary form) into PGlite, a single-user Postgres compiled to WASM in another process, reached",
    "over the wire protocol: one session, no parallelism. A native Postgres builds HNSW with parallel workers (pgvector ≥ 0.6)",
    "and is faster on both counts.",
    "",
  );
}

/** Multiply-adds × 2 per vector of a coarse quantizer and encoder, or undefined for a graph quantizer (no matrix product). */
export function addFlopsPerVector(indexType: string, dimension: number): number | undefined {
  if (/_HNSW/i.test(indexType)) return undefined;
  const nlist = Number(/IVF(\d+)/i.exec(indexType)?.[1] ?? 0);
  // Each PQ sub-quantizer compares its slice with 256 centroids: 256 × dimension multiply-adds in all.
  const pq = /(^|,)PQ\d+/i.test(indexType) ? 256 * dimension : 0;
  return 2 * (nlist * dimension + pq);
}

/**
 * The "## Bulk add" section: store and bare adds into Flat and IVF side by side
 * (bench/contenders/bulk_add.ts), with each IVF type's FLOPs per vector against this run's
 * FMA ceiling. Older results (typed against plain arrays only) keep their old table.
 */
export function bulkSection(b: any, m: any): string[] {
  const out: string[] = [];
  const vps = (x: number) => Math.round(x).toLocaleString("en");
  const n = (x: number) => x.toLocaleString("en");
  if (b.indexTypes) {
    const med = (runs: any[] | undefined, f: (r: any) => number) => (runs ? median(runs.map(f)) : undefined);
    const cell = (runs: any[] | undefined) =>
      runs ? `${vps(med(runs, (r) => r.perSecond)!)} (${vps(med(runs, (r) => r.perCpuSecond)!)})` : "–";
    const countOf = (t: string) => b.runs[`bare ${t} ${b.threads[0]}`]?.[0]?.added ?? b.count;
    out.push(`## Bulk add: ${n(b.count)} vectors (512-d) into Flat and IVF, through the store and bare`, "");
    out.push(
      `${b.reps} interleaved repetitions in one process; medians, as vectors/s of wall time (and, in brackets, per CPU-second: vectors`,
      'over the process\'s CPU time on all threads, less swayed by other load). "store, number[][]": `ImageFaissStore.addVectors` with',
      'LangChain\'s `number[][]` and a Document each; "store, Float32Array": the same with one Float32Array of rows; "bare":',
      "`FaissIndex.add` of a Float32Array, no store. Clustered unit vectors. Trained indexes were trained once, untimed, on",
      `${n(b.trainCount)} other vectors (saved, and every timed add starts from that save). Threads: faiss's OpenMP threads (\`threads\` option).`,
      "",
      "| into | vectors per add | threads | store, number[][] | store, Float32Array | bare | FLOPs per vector | bound by the FMA ceiling |",
      "|---|---|---|---|---|---|---|---|",
    );
    const ceilingOne = typeof m.ceilingGflopsOneThread === "number" ? m.ceilingGflopsOneThread : undefined;
    const ceilingAll = typeof m.ceilingGflops === "number" ? m.ceilingGflops : undefined;
    for (const t of b.indexTypes) {
      const flops = addFlopsPerVector(t, 512);
      for (const threads of b.threads) {
        const ceiling = threads === 1 ? ceilingOne : ceilingAll;
        const bound =
          flops === undefined
            ? "graph search, no matrix product"
            : flops === 0
              ? "none (a copy)"
              : ceiling
                ? `${vps((ceiling * 1e9) / flops)}/s`
                : "ceiling not measured";
        out.push(
          `| ${t} | ${n(countOf(t))} | ${threads} | ${cell(b.runs[`store arrays ${t} ${threads}`])} | ${cell(b.runs[`store typed ${t} ${threads}`])} | ${cell(b.runs[`bare ${t} ${threads}`])} | ${flops === undefined ? "–" : flops === 0 ? "0" : `${round(flops / 1e6, 2)} M`} | ${bound} |`,
        );
      }
    }
    out.push("");
    if (ceilingOne && ceilingAll)
      out.push(
        `FMA ceiling measured in this run (bench/ceiling/fma_peak.c): ${ceilingOne} GFLOP/s on one thread, ${ceilingAll} on all;`,
        '"bound" is that over the FLOPs per vector of faiss\'s add: the coarse assignment (a matrix product of the vectors with',
        "the nlist centroids, 2 × nlist × 512 FLOPs) plus, for PQ, encoding the residual (2 × 256 × 512). No add can beat it.",
        "",
      );
    const recall = Object.entries(b.recall ?? {});
    if (recall.length)
      out.push(
        `recall@10 (against the exact top 10) of each trained store plus ${n(b.recallCount)} of the vectors, nprobe ${b.recallNprobe}, 100 queries: ` +
          recall.map(([t, r]) => `${t} ${round(r as number, 3)}`).join(", ") +
          ".",
        "",
      );
    const plain = ["Flat", "IVF256,Flat"].filter((t) => b.runs[`bare ${t} plain`]);
    if (plain.length)
      out.push(
        `faiss-node's own plain-array methods (the typed-array methods hidden, as with its prebuilt binary; ${n(b.arrayCount)} vectors): ` +
          plain
            .map(
              (t) =>
                `${t} store ${vps(med(b.runs[`store arrays ${t} plain`], (r) => r.perSecond)!)}/s, bare ${vps(med(b.runs[`bare ${t} plain`], (r) => r.perSecond)!)}/s`,
            )
            .join("; ") +
          ".",
      );
    out.push(
      `Also: ImageFaissStore.addVectors one call per vector ${vps(b.oneByOne.perSecond)}/s (${n(b.oneByOne.added)} vectors);`,
      `@langchain/community's FaissStore.addVectors (faiss once per vector) ${vps(b.community.perSecond)}/s (${n(b.community.added)} vectors).`,
      "",
      "Reproduce: `npx tsx bench/run.ts --only bulk` (raw results in `.cache/bench/results.json`).",
      "",
    );
    return out;
  }
  if (b.runs) {
    // Typed-array methods against faiss-node's plain arrays, interleaved in one process (bench/contenders/bulk_add.ts).
    out.push(`## Bulk add: ${b.count.toLocaleString("en")} vectors (512-d), typed arrays against plain arrays`, "");
    out.push(
      `${b.reps} interleaved repetitions in one process; medians. "typed": the addon's addBuffer (built by our install script);`,
      `"arrays": faiss-node's own add with JS arrays (the same addon with addBuffer hidden, as with faiss-node's prebuilt binary),`,
      `over ${b.arrayCount.toLocaleString("en")} vectors. ${b.ivf} was trained on ${b.ivfTrain.toLocaleString("en")} other vectors first (not timed).`,
      `"per CPU-second": vectors over the process's CPU time, less swayed by other load on the machine.`,
      "",
      "| into | via | typed: vectors/s | arrays: vectors/s | typed ÷ arrays | typed: per CPU-second | arrays: per CPU-second |",
      "|---|---|---|---|---|---|---|",
    );
    for (const indexType of ["Flat", b.ivf]) {
      for (const via of ["store", "index"]) {
        const typed = b.runs[`${via} ${indexType} typed`];
        const arrays = b.runs[`${via} ${indexType} arrays`];
        if (!arrays) continue;
        const how = via === "store" ? "ImageFaissStore.addVectors (with Documents)" : "FaissIndex.add (a Float32Array)";
        const med = (runs: any[], f: (r: any) => number) => (runs ? vps(median(runs.map(f))) : "–");
        out.push(
          `| ${indexType} | ${how} | ${med(typed, (r) => r.perSecond)} | ${med(arrays, (r) => r.perSecond)} | ${
            typed
              ? `${round(
                  ratio(typed, arrays, (r) => r.perSecond),
                  1,
                )}×`
              : "–"
          } | ${med(typed, (r) => r.perCpuSecond)} | ${med(arrays, (r) => r.perCpuSecond)} |`,
        );
      }
    }
    out.push(
      "",
      `Also: ImageFaissStore.addVectors one call per vector ${vps(b.oneByOne.perSecond)}/s (${b.oneByOne.added.toLocaleString("en")} vectors);`,
      `@langchain/community's FaissStore.addVectors (faiss once per vector) ${vps(b.community.perSecond)}/s (${b.community.added.toLocaleString("en")} vectors).`,
      "",
    );
  } else {
    out.push(`## Adding ${b.count.toLocaleString("en")} vectors (512-d) with their Documents`, "");
    out.push("| how | vectors/s | vs one at a time |", "|---|---|---|");
    const line = (name: string, r: any) =>
      out.push(
        `| ${name} | ${vps(r.perSecond)}${r.added < b.count ? ` (${r.added.toLocaleString("en")} added in the ${Math.round(r.seconds)} s cap)` : ""} | ${round(r.perSecond / b.oneByOne.perSecond, 2)}× |`,
      );
    line("ImageFaissStore.addVectors, one call (bulk: one native add per chunk)", b.bulk);
    line("ImageFaissStore.addVectors, one call per vector", b.oneByOne);
    line("@langchain/community FaissStore.addVectors, one call (faiss once per vector)", b.community);
    out.push("");
  }
  return out;
}
