/**
 * One build of the scale benchmark, in its own process so that its peak RSS is its own:
 * streams `count` clustered vectors chunk by chunk into an ImageFaissStore (addVectors,
 * one Document with small metadata per vector), keeps the exact top 10 of each query
 * while streaming, and saves the store. Generation and ground truth are timed apart from
 * the adds. Writes ground-truth.json next to the saved store; prints one RESULT line.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import { ImageFaissStore, type ImageFaissStoreArgs } from "../../src/index.js";
import { loadFaiss } from "../../src/utils/imports.js";
import { readArgs, report } from "../contenders/child.js";
import { dataChunks, idOf, queryVectors, type DatasetSpec } from "./dataset.js";
import { StreamingGroundTruth } from "./ground_truth.js";
import { readRss, RssSampler } from "./rss.js";
import { writeJson } from "./runner.js";

export interface BuildArgs extends DatasetSpec {
  /** Where the store is saved (its `store/` folder) with ground-truth.json. */
  dir: string;
  /** Passed to the store as they are: indexType, trainSize, efConstruction, threads, vectorsOnDisk... */
  storeOptions: Record<string, unknown>;
}

const K = 10;
const args = readArgs<BuildArgs>();
const cpuSeconds = (before: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
};

const sampler = new RssSampler();
const started = performance.now();
const cpuAtStart = process.cpuUsage();
const rssAtStart = readRss();
const queries = queryVectors(args);
const truth = await StreamingGroundTruth.create(queries, args.dimension, K);
const store = new ImageFaissStore(new FakeEmbeddings(), args.storeOptions as ImageFaissStoreArgs);

/** Whether a fresh index of this type must be trained (IVF, PQ, SQ...) before it takes vectors. */
const needsTraining = await freshIndexNeedsTraining(String(args.storeOptions.indexType ?? "Flat"));
let trainedSoFar = false;
let addSeconds = 0;
let addCpuSeconds = 0;
let generateSeconds = 0;
let truthSeconds = 0;
/** The addVectors call during which the index got trained (it also adds every vector gathered until then). */
let trainingCall: { afterVectors: number; seconds: number; cpuSeconds: number } | undefined;
/** RSS about every tenth of the way, for the growth curve. */
const rssAt: { vectors: number; vmRssMb: number }[] = [];
const checkpoint = Math.max(args.chunk, Math.ceil(args.count / 10 / args.chunk) * args.chunk);

let generateCpuSeconds = 0;
let truthCpuSeconds = 0;
let t = performance.now();
let cpuMark = process.cpuUsage();
for (const { firstId, rows } of dataChunks(args)) {
  const n = rows.length / args.dimension;
  generateSeconds += (performance.now() - t) / 1000;
  generateCpuSeconds += cpuSeconds(cpuMark);

  // Rows are handed over as Float32Array views, not copied into number[]: addVectors only reads
  // `length` and indexes them, and a chunk of plain arrays would be 4x the memory of the floats.
  const vectors = Array.from({ length: n }, (_, i) => rows.subarray(i * args.dimension, (i + 1) * args.dimension));
  const documents = Array.from(
    { length: n },
    (_, i) => new Document({ pageContent: "", metadata: { n: firstId + i }, id: idOf(firstId + i) }),
  );
  const cpuBefore = process.cpuUsage();
  t = performance.now();
  await store.addVectors(vectors as unknown as number[][], documents, {
    ids: documents.map((d) => d.id!),
  });
  const seconds = (performance.now() - t) / 1000;
  const cpu = cpuSeconds(cpuBefore);
  if (needsTraining && !trainedSoFar && store.index.isTrained()) {
    trainedSoFar = true;
    trainingCall = { afterVectors: firstId + n, seconds, cpuSeconds: cpu };
  } else {
    addSeconds += seconds;
    addCpuSeconds += cpu;
  }

  t = performance.now();
  cpuMark = process.cpuUsage();
  truth.scan(rows, firstId);
  truthSeconds += (performance.now() - t) / 1000;
  truthCpuSeconds += cpuSeconds(cpuMark);
  if ((firstId + n) % checkpoint === 0 || firstId + n === args.count)
    rssAt.push({ vectors: firstId + n, vmRssMb: readRss().vmRssMb });
  t = performance.now();
  cpuMark = process.cpuUsage();
}
const trained = store.index.isTrained();
const built = readRss();

collectGarbage();
const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;
t = performance.now();
await store.save(join(args.dir, "store"));
const saveSeconds = (performance.now() - t) / 1000;
const files = await savedFileSizes(join(args.dir, "store"));

await writeJson(join(args.dir, "ground-truth.json"), { k: K, queries: args.queries, ids: truth.top });
const end = readRss();
const maxSampledVmRssMb = await sampler.stop();
const buildSeconds = addSeconds + (trainingCall?.seconds ?? 0);
const buildCpuSeconds = addCpuSeconds + (trainingCall?.cpuSeconds ?? 0);
const steadyVectors = args.count - (trainingCall?.afterVectors ?? 0);
report({
  count: args.count,
  trained,
  indexType: store.indexType,
  buildSeconds,
  buildCpuSeconds,
  addPerSecond: args.count / buildSeconds,
  addPerCpuSecond: args.count / buildCpuSeconds,
  /** The adds once the index is trained: the rate a store that keeps growing sees. */
  steadyAddPerSecond: steadyVectors > 0 && addSeconds > 0 ? steadyVectors / addSeconds : undefined,
  steadyAddPerCpuSecond: steadyVectors > 0 && addCpuSeconds > 0 ? steadyVectors / addCpuSeconds : undefined,
  trainingCall,
  /** The training call less what adding its gathered vectors costs at the steady rate: training alone, about. */
  trainSeconds:
    trainingCall && steadyVectors > 0 && addSeconds > 0
      ? Math.max(0, trainingCall.seconds - trainingCall.afterVectors / (steadyVectors / addSeconds))
      : trainingCall?.seconds,
  generateSeconds,
  generateCpuSeconds,
  groundTruthSeconds: truthSeconds,
  groundTruthCpuSeconds: truthCpuSeconds,
  saveSeconds,
  files,
  indexBytesPerVector: files.indexBytes / args.count,
  rss: {
    startMb: rssAtStart.vmRssMb,
    builtMb: built.vmRssMb,
    peakVmHwmMb: end.vmHwmMb,
    maxSampledVmRssMb: Math.max(maxSampledVmRssMb, end.vmRssMb),
    endMb: end.vmRssMb,
    at: rssAt,
  },
  heapUsedMb,
  heapBytesPerVector: (heapUsedMb * 2 ** 20) / args.count,
  wallSeconds: (performance.now() - started) / 1000,
  cpuSeconds: cpuSeconds(cpuAtStart),
});

/** Byte sizes of the files of the saved version (store_files.ts names them). */
async function savedFileSizes(directory: string) {
  const version = (await readFile(join(directory, "CURRENT"), "utf8")).trim();
  const size = async (file: string) => (await stat(join(directory, version, file)).catch(() => undefined))?.size ?? 0;
  const [indexBytes, vectorsBytes, docstoreBytes] = await Promise.all(
    ["faiss.index", "vectors.f32", "docstore.json"].map(size),
  );
  const all = await readdir(join(directory, version));
  let totalBytes = 0;
  for (const file of all) totalBytes += await size(file);
  return { indexBytes, vectorsBytes, docstoreBytes, totalBytes, names: all };
}

async function freshIndexNeedsTraining(indexType: string): Promise<boolean> {
  const faiss = await loadFaiss();
  return !faiss.Index.fromFactory(args.dimension, indexType, faiss.MetricType.METRIC_INNER_PRODUCT).isTrained();
}

/** A full collection, so the heap figure is what the store keeps, not garbage of the last chunk. */
function collectGarbage() {
  v8.setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}
