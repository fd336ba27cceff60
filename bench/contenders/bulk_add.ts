/**
 * Adding 512-d vectors, side by side in one process:
 * - into Flat and into a trained IVF256,Flat, through the addon's typed-array methods
 *   ("typed", when the addon has them) and through faiss-node's plain-array methods
 *   ("arrays": the same addon with the typed-array methods hidden, as in faiss-node's
 *   prebuilt binary), both via ImageFaissStore.addVectors (with Documents) and via the
 *   bare FaissIndex.add (rows already in a Float32Array);
 * - ImageFaissStore one call per vector, and @langchain/community's FaissStore.addVectors
 *   (which calls faiss once per vector), on fewer vectors.
 * The modes are interleaved over `reps` repetitions, so load on the machine hits them alike;
 * ratios are per repetition. The array path gets `arrayCount` vectors (its rate does not
 * depend on the count); the rest get `count`.
 */
import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import { ImageFaissStore } from "../../src/index.js";
import { loadFaiss } from "../../src/utils/imports.js";
import { FaissIndex } from "../../src/vectorstores/faiss_index.js";
import { randomUnitVectors, rows } from "../stats.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{ count: number; arrayCount: number; othersCount: number; reps: number; maxSeconds: number }>();
const DIM = 512;
const IVF = "IVF256,Flat";
const IVF_TRAIN = 10_000;
const TUNING = { efSearch: 128, efConstruction: 40, nprobe: 8 };

const flat = randomUnitVectors(args.count, DIM, 3);
const vectors = rows(flat, DIM);
const docs = vectors.map((_, i) => new Document({ pageContent: `doc ${i}`, id: `id-${i}` }));
const ids = docs.map((d) => d.id!);
const trainFlat = randomUnitVectors(IVF_TRAIN, DIM, 4);
const trainRows = rows(trainFlat, DIM);
const trainDocs = trainRows.map((_, i) => new Document({ pageContent: `train ${i}`, id: `train-${i}` }));

const faiss = await loadFaiss();
const METHODS = ["addBuffer", "trainBuffer", "searchBuffer"] as const;
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

/** A store whose IVF index is already trained on other vectors, so the timed add only adds. */
async function trainedStore(indexType: string) {
  const ivf = indexType !== "Flat";
  const store = new ImageFaissStore(new FakeEmbeddings(), ivf ? { indexType, ivfTrainSize: IVF_TRAIN } : { indexType });
  if (ivf) await store.addVectors(trainRows, trainDocs, { ids: trainDocs.map((d) => d.id!) });
  return store;
}
async function trainedIndex(indexType: string) {
  const index = await FaissIndex.create(DIM, indexType, "cosine", TUNING);
  return indexType === "Flat" ? index : index.train(trainFlat, DIM);
}

const modes = {
  store: (indexType: string, n: number) =>
    timed(
      () => trainedStore(indexType),
      async (store) => {
        await store.addVectors(vectors.slice(0, n), docs.slice(0, n), { ids: ids.slice(0, n) });
        return n;
      },
    ),
  index: (indexType: string, n: number) =>
    timed(
      () => trainedIndex(indexType),
      async (index) => {
        index.add(flat.subarray(0, n * DIM), DIM);
        return index.size;
      },
    ),
};

type Runs = Record<string, Rate[]>;
const runs: Runs = {};
const record = (name: string, r: Rate) => (runs[name] ??= []).push(r);
for (let rep = 0; rep < args.reps; rep++) {
  for (const indexType of ["Flat", IVF]) {
    for (const via of ["store", "index"] as const) {
      if (typedAvailable) {
        useTyped(true);
        record(`${via} ${indexType} typed`, await modes[via](indexType, args.count));
      }
      useTyped(false);
      record(`${via} ${indexType} arrays`, await modes[via](indexType, Math.min(args.arrayCount, args.count)));
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
report({ ...args, typedAvailable, ivf: IVF, ivfTrain: IVF_TRAIN, runs, oneByOne, community });
