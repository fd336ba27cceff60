/**
 * Adding 512-d vectors, side by side in one process, into Flat and trained IVF indexes
 * (`indexTypes`), each with `threads` OpenMP threads:
 * - "store arrays": ImageFaissStore.addVectors with `number[][]` and Documents (LangChain's form);
 * - "store typed": ImageFaissStore.addVectors with one Float32Array of rows and Documents;
 * - "bare": FaissIndex.add of a Float32Array, no store (what faiss itself costs).
 * Each timed add brings `count` vectors (`slowCount` into IVF types of 1,024 lists or more,
 * a tenth of that with an HNSW quantizer). Indexes that need training are trained once,
 * untimed, on `trainCount` other vectors, and every timed add starts from a copy of that
 * trained state (a store loaded from a save, its index read from the file), so alike.
 * The modes are interleaved over `reps` repetitions, so load on the machine hits them alike.
 *
 * Also, for Flat and IVF256,Flat only: the same adds through faiss-node's plain-array methods
 * (the typed-array methods hidden, as in faiss-node's prebuilt binary) on `arrayCount`
 * vectors, ImageFaissStore one call per vector, and @langchain/community's FaissStore.
 *
 * And the recall cost of an HNSW coarse quantizer: recall@10 (against the exact top 10) of
 * each IVF type over `recallCount` clustered vectors, at `recallNprobe`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import { ImageFaissStore } from "../../src/index.js";
import { loadFaiss } from "../../src/utils/imports.js";
import { FaissIndex } from "../../src/vectorstores/faiss_index.js";
import { clusteredUnitVectors, rows } from "../stats.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{
  count: number;
  /** Vectors per timed add into IVF types of 1,024 lists or more, whose adds take far longer. */
  slowCount: number;
  arrayCount: number;
  othersCount: number;
  reps: number;
  maxSeconds: number;
  indexTypes: string[];
  threads: number[];
  trainCount: number;
  recallCount: number;
  recallNprobe: number;
}>();
const DIM = 512;
const TUNING = { efSearch: 128, efConstruction: 40, nprobe: args.recallNprobe };
const ARRAY_TYPES = new Set(["Flat", "IVF256,Flat"]);

// Clustered like real embeddings: k-means and an HNSW quantizer behave on them as on photos.
const flat = clusteredUnitVectors(args.count, DIM, 1_000, 3);
const vectors = rows(flat, DIM);
const docs = vectors.map((_, i) => new Document({ pageContent: `doc ${i}`, id: `id-${i}` }));
const ids = docs.map((d) => d.id!);
const trainFlat = clusteredUnitVectors(args.trainCount, DIM, 1_000, 4);
const trainDocs = Array.from({ length: args.trainCount }, (_, i) => new Document({ pageContent: "", id: `t${i}` }));

const faiss = await loadFaiss();
const METHODS = ["addBuffer", "addBufferAsync", "trainBuffer", "searchBuffer"] as const;
const prototypes = [faiss.Index, faiss.IndexFlatL2, faiss.IndexFlatIP].map(
  (c) => c.prototype as unknown as Record<string, unknown>,
);
const saved = prototypes.map((p) => METHODS.map((m) => p[m]));
const typedAvailable = saved[0].every((m) => typeof m === "function");
/** Shows or hides the typed-array methods on every faiss-node class. */
function useTyped(on: boolean) {
  prototypes.forEach((p, i) =>
    METHODS.forEach((m, j) => {
      if (on && saved[i][j] !== undefined) p[m] = saved[i][j];
      else delete p[m];
    }),
  );
}

interface Rate {
  added: number;
  seconds: number;
  perSecond: number;
  /** Vectors per second of this process's CPU time (all threads): less swayed by other work on the machine. */
  perCpuSecond: number;
}
/** Times `add` (after an untimed `prepare`), which returns how many vectors it added. */
async function timed<T>(prepare: () => Promise<T>, add: (target: T, start: number) => Promise<number>): Promise<Rate> {
  const target = await prepare();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const added = await add(target, start);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { added, seconds, perSecond: added / seconds, perCpuSecond: added / ((cpu.user + cpu.system) / 1e6) };
}
const outOfTime = (start: number) => (performance.now() - start) / 1000 > args.maxSeconds;
const needsTraining = (indexType: string) => indexType !== "Flat";
const nlist = (indexType: string) => Number(/IVF(\d+)/.exec(indexType)?.[1] ?? 0);
/** Vectors per timed add: an HNSW quantizer adds about 1,000 vectors/s here, so it gets a tenth of `slowCount`. */
const countFor = (indexType: string) =>
  /_HNSW/i.test(indexType) ? args.slowCount / 10 : nlist(indexType) >= 1024 ? args.slowCount : args.count;

/**
 * Each index type trained once (untimed), through a store, and saved: every timed add starts
 * from that save, the store's as a loaded store, the bare index's as a copy of its index
 * (holding the same `trainCount` training vectors). One training each, as training an HNSW
 * quantizer rebuilds its graph at every k-means iteration (minutes for 4,096 lists here).
 */
const scratch = await mkdtemp(join(tmpdir(), "bulk-add-"));
const trained: Record<string, { storeDir: string; indexFile: string; trainSeconds: number }> = {};
for (const [i, indexType] of args.indexTypes.filter(needsTraining).entries()) {
  const start = performance.now();
  const storeDir = join(scratch, `store-${i}`);
  const store = new ImageFaissStore(new FakeEmbeddings(), { indexType, trainSize: args.trainCount, ...TUNING });
  await store.addVectors(trainFlat, trainDocs);
  await store.save(storeDir);
  const indexFile = join(scratch, `index-${i}`);
  await writeFile(indexFile, store.index.toBuffer());
  trained[indexType] = { storeDir, indexFile, trainSeconds: (performance.now() - start) / 1000 };
  console.error(`${indexType}: trained in ${trained[indexType].trainSeconds.toFixed(1)} s`);
}

const loadStore = (indexType: string, threads: number) =>
  needsTraining(indexType)
    ? ImageFaissStore.load(trained[indexType].storeDir, new FakeEmbeddings(), { threads })
    : Promise.resolve(new ImageFaissStore(new FakeEmbeddings(), { indexType, threads }));
const loadIndex = (indexType: string, threads: number) =>
  needsTraining(indexType)
    ? FaissIndex.fromFile(trained[indexType].indexFile, indexType, "cosine", {}, { threads })
    : FaissIndex.create(DIM, indexType, "cosine", TUNING, { threads });

const modes = {
  "store arrays": (indexType: string, threads: number, n: number) =>
    timed(
      () => loadStore(indexType, threads),
      async (store) => {
        await store.addVectors(vectors.slice(0, n), docs.slice(0, n), { ids: ids.slice(0, n) });
        return n;
      },
    ),
  "store typed": (indexType: string, threads: number, n: number) =>
    timed(
      () => loadStore(indexType, threads),
      async (store) => {
        await store.addVectors(flat.subarray(0, n * DIM), docs.slice(0, n), { ids: ids.slice(0, n) });
        return n;
      },
    ),
  bare: (indexType: string, threads: number, n: number) =>
    timed(
      () => loadIndex(indexType, threads),
      async (index) => {
        index.add(flat.subarray(0, n * DIM), DIM);
        return n;
      },
    ),
};

type Runs = Record<string, Rate[]>;
const runs: Runs = {};
const loadAtStart = loadavg()[0];
const record = (name: string, r: Rate) => (runs[name] ??= []).push(r);
for (let rep = 0; rep < args.reps; rep++) {
  for (const indexType of args.indexTypes) {
    for (const threads of args.threads) {
      for (const via of Object.keys(modes) as (keyof typeof modes)[]) {
        useTyped(true);
        record(`${via} ${indexType} ${threads}`, await modes[via](indexType, threads, countFor(indexType)));
        console.error(
          `${via} ${indexType} threads ${threads}: ${Math.round(runs[`${via} ${indexType} ${threads}`].at(-1)!.perSecond)}/s`,
        );
      }
    }
    if (!ARRAY_TYPES.has(indexType)) continue;
    // faiss-node's plain-array methods, at the default thread count.
    for (const via of ["store arrays", "bare"] as const) {
      useTyped(false);
      record(`${via} ${indexType} plain`, await modes[via](indexType, args.threads.at(-1)!, args.arrayCount));
      useTyped(true);
    }
  }
}

const oneByOne = await timed(
  async () => new ImageFaissStore(new FakeEmbeddings()),
  async (store, start) => {
    let i = 0;
    for (; i < args.othersCount && !outOfTime(start); i++)
      await store.addVectors([vectors[i]], [docs[i]], { ids: [ids[i]] });
    return i;
  },
);
const community = await timed(
  async () => new FaissStore(new FakeEmbeddings(), {}),
  async (store) => {
    const n = Math.min(args.othersCount, args.count);
    await store.addVectors(vectors.slice(0, n), docs.slice(0, n), { ids: ids.slice(0, n) });
    return store.index.ntotal();
  },
);

/**
 * recall@10 of each IVF type, against the exact top 10: its trained store (which holds the
 * training vectors) plus the first `recallCount` vectors, queried with 100 others.
 */
const recall: Record<string, number> = {};
{
  const n = Math.min(args.recallCount, args.count);
  const queries = clusteredUnitVectors(100, DIM, 1_000, 5);
  const exact = await FaissIndex.create(DIM, "Flat", "cosine", TUNING);
  exact.add(trainFlat, DIM);
  exact.add(flat.subarray(0, n * DIM), DIM);
  const truth = exact.searchMany(queries, 10).map((r) => new Set(r.positions));
  // Store ids as positions of the exact index: t<i> first, then id-<j>.
  const position = (id: string) => (id.startsWith("t") ? Number(id.slice(1)) : args.trainCount + Number(id.slice(3)));
  for (const indexType of args.indexTypes.filter(needsTraining)) {
    const store = await ImageFaissStore.load(trained[indexType].storeDir, new FakeEmbeddings());
    await store.addVectors(flat.subarray(0, n * DIM), docs.slice(0, n), { ids: ids.slice(0, n) });
    let hits = 0;
    for (let q = 0; q < 100; q++) {
      const query = Array.from(queries.subarray(q * DIM, (q + 1) * DIM));
      const found = await store.similaritySearchVectorWithScore(query, 10);
      hits += found.filter(([d]) => truth[q].has(position(d.id!))).length;
    }
    recall[indexType] = hits / 1000;
    console.error(`${indexType}: recall@10 ${recall[indexType]} over ${n} vectors at nprobe ${args.recallNprobe}`);
  }
}
await rm(scratch, { recursive: true, force: true });

report({
  ...args,
  typedAvailable,
  trainSeconds: Object.fromEntries(Object.entries(trained).map(([k, v]) => [k, v.trainSeconds])),
  runs,
  oneByOne,
  community,
  recall,
  // The 1-minute load average when the timed adds began and when they ended: whether wall-clock rates held a core.
  loadAverage: { start: loadAtStart, end: loadavg()[0] },
});
