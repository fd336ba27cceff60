/**
 * One search setting of the scale benchmark, in a fresh process: loads the saved store
 * with the setting as load options (nprobe, efSearch, rerank, threads...), recording the
 * load time and the RSS it costs (and, for `cache: "warm"`, reads the vector files once),
 * then times single queries through the store (p50, p99, recall@10 against the streamed
 * ground truth) and one batch of all queries straight through faiss (where its threads
 * help). Prints one RESULT line.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import { ImageFaissStore, type LoadOptions } from "../../src/index.js";
import { searchRows } from "../../src/vectorstores/faiss_native_rows.js";
import { readArgs, report } from "../contenders/child.js";
import { percentile } from "../stats.js";
import { positionOfId, queryVectors, type DatasetSpec } from "./dataset.js";
import { recallAtK } from "./ground_truth.js";
import { readRss, RssSampler } from "./rss.js";

export interface SearchArgs {
  dir: string;
  spec: DatasetSpec;
  loadOptions: Record<string, unknown>;
  /** Seconds the batch search is repeated for at most (at least once). */
  batchSeconds: number;
}

const K = 10;
const args = readArgs<SearchArgs>();
const queries = queryVectors(args.spec);
const { dimension } = args.spec;
const truth = JSON.parse(await readFile(join(args.dir, "ground-truth.json"), "utf8")) as { ids: number[][] };
const queryRows = Array.from({ length: args.spec.queries }, (_, q) =>
  Array.from(queries.subarray(q * dimension, (q + 1) * dimension)),
);

const before = readRss();
const sampler = new RssSampler();
let t = performance.now();
// `cache` is the benchmark's, not a store option (see settings.ts): the runner dropped the page cache for "cold".
const { cache, ...loadOptions } = args.loadOptions;
const store = await ImageFaissStore.load(join(args.dir, "store"), new FakeEmbeddings(), loadOptions as LoadOptions);
const loadSeconds = (performance.now() - t) / 1000;
const afterLoad = readRss();
const loadPeakMb = await sampler.stop();
if (store.size !== args.spec.count)
  throw new Error(`the loaded store holds ${store.size} vectors, not ${args.spec.count}`);

let prefetch: { bytes: number; seconds: number } | undefined;
if (cache === "warm") {
  t = performance.now();
  const bytes = await store.prefetchVectors();
  prefetch = { bytes, seconds: (performance.now() - t) / 1000 };
}

// One untimed query first: the first search of a freshly read index pays one-off costs.
await store.similaritySearchVectorWithScore(queryRows[0], K);
const latencies: number[] = [];
const found: number[][] = [];
for (const query of queryRows) {
  t = performance.now();
  const hits = await store.similaritySearchVectorWithScore(query, K);
  latencies.push(performance.now() - t);
  found.push(hits.map(([document]) => positionOfId(document.id)));
}

// All queries in one native call, repeated for about `batchSeconds`: faiss spreads them over its threads.
// An index that never trained (the store searches its own vectors exactly) has no native search to time.
const trained = store.index.isTrained();
let batch: Record<string, number> | undefined;
if (trained) {
  let batches = 0;
  t = performance.now();
  const cpuBefore = process.cpuUsage();
  do {
    searchRows(store.index, queries, K);
    batches++;
  } while ((performance.now() - t) / 1000 < args.batchSeconds && batches < 50);
  const seconds = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  batch = {
    queriesPerSecond: (batches * args.spec.queries) / seconds,
    queriesPerCpuSecond: (batches * args.spec.queries) / ((cpu.user + cpu.system) / 1e6),
    batches,
  };
}

report({
  loadOptions: args.loadOptions,
  loadSeconds,
  prefetch,
  rss: {
    beforeLoadMb: before.vmRssMb,
    afterLoadMb: afterLoad.vmRssMb,
    loadPeakVmHwmMb: afterLoad.vmHwmMb,
    loadMaxSampledMb: Math.max(loadPeakMb, afterLoad.vmRssMb),
    endMb: readRss().vmRssMb,
  },
  p50Ms: percentile(latencies, 50),
  p99Ms: percentile(latencies, 99),
  meanMs: latencies.reduce((a, b) => a + b, 0) / latencies.length,
  recallAt10: recallAtK(found, truth.ids, K),
  trained,
  batch,
});
