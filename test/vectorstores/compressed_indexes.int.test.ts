/**
 * Compressed index types (SQ8, SQfp16, IVF-PQ, OPQ + IVF-PQ, HNSW over SQ8) on real
 * faiss-node, at small scale: recall against Flat on clustered vectors, and every store
 * behaviour (upsert, delete, filter, MMR, duplicates, save and load with the parameters
 * kept), plus training, re-rank, threads and the parameters reaching wrapped indexes.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusteredUnitVectors, rows } from "../../bench/stats.js";
import { findDuplicates, ImageFaissStore, MultimodalRetriever } from "../../src/index.js";
import { FaissIndex } from "../../src/vectorstores/faiss_index.js";
import { hasParameterMethods, searchParamPatches } from "../../src/vectorstores/faiss_params.js";
import { loadFaiss } from "../../src/utils/imports.js";
import { tempDir } from "../helpers/fixtures.js";
import { documentsFor } from "../helpers/vectors.js";

const DIM = 32;
const COUNT = 5_000;
/** PQ and OPQ train on 1,000 vectors (faiss warns below 9,984): k-means and OPQ's rotation are the slow part. */
const PQ_TRAIN = 1_000;
const vectors = rows(clusteredUnitVectors(COUNT, DIM, 200, 7), DIM);
const queries = rows(clusteredUnitVectors(50, DIM, 200, 8), DIM);
const { documents, ids } = documentsFor(vectors);
/**
 * faiss on one OpenMP thread: on a 2-core machine shared with other work, OpenMP's waiting
 * threads made OPQ training 6-8x slower with 2 threads (62-84 s against 10 s, measured here).
 */
const ONE = { threads: 1 };

/** Five near-copies of vector 0, for duplicates and MMR. */
const copies = Array.from({ length: 5 }, (_, c) => vectors[0].map((x, j) => x + 0.002 * Math.sin(7 * j + c)));
const copyIds = copies.map((_, c) => `copy${c}`);
const copyDocs = copyIds.map((id) => new Document({ id, pageContent: id, metadata: { i: -1 } }));

/** Embeddings that answer "q<n>" with query n, so MultimodalRetriever can run MMR over stored vectors. */
const queryEmbeddings = {
  embedQuery: async (text: string) => (text === "copy" ? vectors[0] : queries[Number(text.slice(1))]),
  embedDocuments: async (texts: string[]) => Promise.all(texts.map((t) => queryEmbeddings.embedQuery(t))),
  embedImagesSettled: async () => {
    throw new Error("not used");
  },
} as unknown as EmbeddingsInterface;

async function topIds(store: ImageFaissStore, k: number, filter?: (d: Document) => boolean): Promise<string[][]> {
  const out: string[][] = [];
  for (const q of queries) out.push((await store.similaritySearchVectorWithScore(q, k, filter)).map(([d]) => d.id!));
  return out;
}

function recall(found: string[][], truth: string[][]): number {
  let hits = 0;
  found.forEach((got, i) => (hits += got.filter((id) => truth[i].includes(id)).length));
  return hits / truth.flat().length;
}

/** A parameter as the index holds it, read through our addon (built by the install script, which checks it). */
function parameter(store: ImageFaissStore, name: string): number | null {
  const native = store.index;
  if (!hasParameterMethods(native)) throw new Error("faiss-node was not built with our addon's getParameter");
  return native.getParameter(name);
}

const hashOf = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
const savedIndexFile = async (dir: string) =>
  join(dir, (await readFile(join(dir, "CURRENT"), "utf8")).trim(), "faiss.index");

let dir: string;
let cleanup: () => Promise<void>;
let flat: ImageFaissStore;
let truth: string[][];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  flat = new ImageFaissStore(queryEmbeddings);
  await flat.addVectors(vectors, documents, { ids });
  truth = await topIds(flat, 10);
});
afterAll(() => cleanup());

/** Each type with its options and the recall@10 against Flat it must reach (measured, with a margin). */
const TYPES = [
  { indexType: "SQ8", options: {}, minRecall: 0.95 },
  { indexType: "SQfp16", options: {}, minRecall: 0.99 },
  { indexType: "IVF16,PQ8", options: { nprobe: 16 }, trainSize: PQ_TRAIN, minRecall: 0.5 },
  { indexType: "OPQ8,IVF16,PQ8", options: { nprobe: 1 }, trainSize: PQ_TRAIN, minRecall: 0.3 },
  { indexType: "HNSW32,SQ8", options: { efSearch: 64, efConstruction: 80 }, minRecall: 0.9 },
];

describe.each(TYPES)("$indexType", ({ indexType, options, trainSize, minRecall }) => {
  let store: ImageFaissStore;
  /** The store saved right after its vectors were added, before the tests below change it. */
  let saved: string;
  beforeAll(async () => {
    store = new ImageFaissStore(queryEmbeddings, { indexType, trainSize, ...options, ...ONE });
    await store.addVectors([...vectors, ...copies], [...documents, ...copyDocs], { ids: [...ids, ...copyIds] });
    saved = join(dir, `fresh-${indexType.replace(/,/g, "_")}`);
    await store.save(saved);
  }, 120_000);

  it("trains on its own and finds the nearest neighbours Flat finds", async () => {
    expect(store.isTrained).toBe(true);
    expect(store.size).toBe(COUNT + copies.length);
    // The copies of vector 0 change the truth only for queries near it; compare on the original ids.
    const found = (await topIds(store, 10 + copies.length)).map((got) => got.filter((id) => !id.startsWith("copy")));
    const r = recall(
      found.map((got) => got.slice(0, 10)),
      truth,
    );
    console.log(`${indexType}: recall@10 against Flat over ${COUNT} clustered ${DIM}-d vectors: ${r.toFixed(3)}`);
    expect(r).toBeGreaterThanOrEqual(minRecall);
  });

  it("filters before counting k", async () => {
    const filter = (d: Document) => d.metadata.i % 10 === 3;
    const found = await topIds(store, 10, filter);
    const byId = new Map(documents.map((d) => [d.id, d]));
    expect(found.every((got) => got.length === 10 && got.every((id) => filter(byId.get(id)!)))).toBe(true);
    expect(recall(found, await topIds(flat, 10, filter))).toBeGreaterThanOrEqual(minRecall - 0.1);
  });

  it("finds the near-copies as duplicates, and MMR spreads them out", async () => {
    // The first thousand and the copies: every pair of all 5k would take seconds in JS.
    const near = store.entries().filter(({ id }) => id.startsWith("copy") || Number(id.slice(1)) < 1_000);
    const groups = findDuplicates(
      near.map(({ id, vector }) => ({ id, vector })),
      0.999,
    );
    expect(groups.map((g) => g.items.map((item) => item.id))).toEqual([
      ["copy0", "copy1", "copy2", "copy3", "copy4", "v0"],
    ]);
    const similar = await new MultimodalRetriever({ vectorStore: store, k: 4 }).invoke("copy");
    expect(similar.every((d) => d.id === "v0" || d.id!.startsWith("copy"))).toBe(true);
    const mmr = await new MultimodalRetriever({
      vectorStore: store,
      k: 4,
      fetchK: 20,
      searchType: "mmr",
      // Copies score about 0.3 − 0.7 = −0.4 after the first; their cluster's others 0.3 × 0.5 − 0.7 × 0.5 = −0.2.
      lambda: 0.3,
    }).invoke("copy");
    expect(mmr).toHaveLength(4);
    expect(mmr.filter((d) => d.id === "v0" || d.id!.startsWith("copy")).length).toBe(1);
  });

  if (indexType.includes("PQ")) {
    it("re-ranks its candidates exactly: recall rises and scores are exact cosines", async () => {
      const plain = await ImageFaissStore.load(saved, queryEmbeddings, ONE);
      const reranked = await ImageFaissStore.load(saved, queryEmbeddings, { rerank: 100, nprobe: 16, ...ONE });
      const [before, after] = [recall(await topIds(plain, 10), truth), recall(await topIds(reranked, 10), truth)];
      console.log(`${indexType} recall@10: ${before.toFixed(3)} plain, ${after.toFixed(3)} with rerank 100`);
      expect(after).toBeGreaterThanOrEqual(0.95);
      expect(after).toBeGreaterThan(before + 0.2);
      const exact = new Map((await flat.similaritySearchVectorWithScore(queries[0], 50)).map(([d, s]) => [d.id, s]));
      const found = await reranked.similaritySearchVectorWithScore(queries[0], 10);
      for (const [d, score] of found) if (exact.has(d.id)) expect(score).toBeCloseTo(exact.get(d.id)!, 5);
      expect(found.filter(([d]) => exact.has(d.id)).length).toBeGreaterThanOrEqual(9);
    });

    it("saves rerank and trainSize with the store: a load without them keeps them, a load's own wins", async () => {
      const reranked = await ImageFaissStore.load(saved, queryEmbeddings, { rerank: 100, nprobe: 16, ...ONE });
      const resaved = join(dir, `reranked-${indexType.replace(/,/g, "_")}`);
      await reranked.save(resaved);
      const again = await ImageFaissStore.load(resaved, queryEmbeddings, ONE);
      expect(again.loadedManifest?.storeOptions).toEqual({ rerank: 100, trainSize: PQ_TRAIN });
      expect(again.trainSize).toBe(PQ_TRAIN);
      const expected = await reranked.similaritySearchVectorWithScore(queries[1], 10);
      const got = await again.similaritySearchVectorWithScore(queries[1], 10);
      expect(got.map(([d, score]) => [d.id, score])).toEqual(expected.map(([d, score]) => [d.id, score]));
      // rerank: 0 on load turns it off: the index's own (approximate) scores come back.
      const off = await ImageFaissStore.load(resaved, queryEmbeddings, { rerank: 0, ...ONE });
      const plain = await ImageFaissStore.load(saved, queryEmbeddings, { nprobe: 16, ...ONE });
      const offScores = (await off.similaritySearchVectorWithScore(queries[1], 10)).map(([d, s]) => [d.id, s]);
      const plainScores = (await plain.similaritySearchVectorWithScore(queries[1], 10)).map(([d, s]) => [d.id, s]);
      expect(offScores).toEqual(plainScores);
      expect(offScores).not.toEqual(got.map(([d, s]) => [d.id, s]));
      // The old name of trainSize given on load replaces the saved one rather than clashing with it.
      expect((await ImageFaissStore.load(resaved, queryEmbeddings, { ivfTrainSize: 2_000, ...ONE })).trainSize).toBe(
        2_000,
      );
    });
  }

  if (indexType.startsWith("OPQ")) {
    it("nprobe reaches the IVF inside OPQ, is saved with it, and a load's nprobe leaves the file alone", async () => {
      const file = await savedIndexFile(saved);
      const hash = await hashOf(file);
      const one = await ImageFaissStore.load(saved, queryEmbeddings, ONE);
      const all = await ImageFaissStore.load(saved, queryEmbeddings, { nprobe: 16, ...ONE });
      expect(parameter(one, "nprobe")).toBe(1);
      expect(parameter(all, "nprobe")).toBe(16);
      const [r1, r16] = [recall(await topIds(one, 10), truth), recall(await topIds(all, 10), truth)];
      console.log(`${indexType} recall@10: nprobe 1 → ${r1.toFixed(3)}, nprobe 16 → ${r16.toFixed(3)}`);
      expect(r16).toBeGreaterThan(r1 + 0.05);
      expect(await hashOf(file)).toBe(hash);
    });
  }

  it("upserts, deletes, rebuilds, saves and loads with its parameters", async () => {
    // Upsert: v1 takes vector 4000's place; it is found there, and the size is unchanged.
    await store.addVectors([vectors[4000]], [new Document({ pageContent: "moved", metadata: { i: 1 } })], {
      ids: ["v1"],
    });
    expect(store.size).toBe(COUNT + copies.length);
    const [[moved]] = await store.similaritySearchVectorWithScore(vectors[4000], 2);
    expect(["v1", "v4000"]).toContain(moved.id);
    await store.delete({ ids: copyIds });
    expect((await store.similaritySearchVectorWithScore(vectors[0], 10)).map(([d]) => d.id)).not.toContain("copy0");
    // A third deleted: the index is rebuilt (and retrained on a sample of the live vectors).
    const gone = ids.slice(3_000, 4_800);
    await store.delete({ ids: gone });
    expect(store.size).toBe(COUNT - gone.length);
    expect(store.isTrained).toBe(true);
    const goneSet = new Set(gone);
    const results = await topIds(store, 10);
    expect(results.flat().some((id) => goneSet.has(id))).toBe(false);
    expect(results.every((got) => got.length === 10)).toBe(true);

    const target = join(dir, indexType.replace(/,/g, "_"));
    await store.save(target);
    const loaded = await ImageFaissStore.load(target, queryEmbeddings, ONE);
    expect(loaded.size).toBe(store.size);
    expect(await topIds(loaded, 10)).toEqual(results);
    // The rebuild kept the parameters, and the save carries them.
    for (const [name, value] of Object.entries(options)) expect(parameter(loaded, name)).toBe(value);
  }, 120_000);
});

describe("training", () => {
  it("derives the training size from the type, keeps ivfTrainSize as an alias, and refuses too few", () => {
    const trainSize = (indexType: string, extra = {}) =>
      new ImageFaissStore(queryEmbeddings, { indexType, ...extra }).trainSize;
    expect(trainSize("Flat")).toBeUndefined();
    expect(trainSize("SQfp16")).toBeUndefined();
    expect(trainSize("SQ8")).toBe(1_000);
    expect(trainSize("HNSW32,SQ8")).toBe(1_000);
    expect(trainSize("IVF1024,Flat")).toBe(39 * 1024);
    expect(trainSize("IVF16,PQ8")).toBe(39 * 256);
    expect(trainSize("OPQ8,IVF16,PQ8")).toBe(39 * 256);
    expect(trainSize("IVF16,PQ8", { ivfTrainSize: 3_000 })).toBe(3_000);
    expect(new ImageFaissStore(queryEmbeddings, { indexType: "SQ8" }).isTrained).toBe(false);
    expect(new ImageFaissStore(queryEmbeddings, { indexType: "SQfp16" }).isTrained).toBe(true);
    expect(() => trainSize("IVF16,PQ8", { trainSize: 100 })).toThrow(
      "trainSize (100) must be at least the 256 centroids of each PQ sub-quantizer",
    );
    expect(() => trainSize("SQ8", { trainSize: 0 })).toThrow(
      "Expected a whole number >= 1 for trainSize but received 0",
    );
    expect(() => trainSize("SQ8", { trainSize: 10, ivfTrainSize: 20 })).toThrow(/give trainSize only/);
  });

  it("searches exactly, with every vector, until it has trainSize vectors; then trains", async () => {
    // nprobe 16 of 16 lists: once trained, every vector is still reachable.
    const store = new ImageFaissStore(queryEmbeddings, {
      indexType: "IVF16,PQ8",
      trainSize: 2_000,
      nprobe: 16,
      ...ONE,
    });
    await store.addVectors(vectors.slice(0, 1_999), documents.slice(0, 1_999), { ids: ids.slice(0, 1_999) });
    expect(store.isTrained).toBe(false);
    const small = new ImageFaissStore(queryEmbeddings);
    await small.addVectors(vectors.slice(0, 1_999), documents.slice(0, 1_999), { ids: ids.slice(0, 1_999) });
    for (const q of queries.slice(0, 10)) {
      const exact = await small.similaritySearchVectorWithScore(q, 10);
      const got = await store.similaritySearchVectorWithScore(q, 10);
      expect(got.map(([d]) => d.id)).toEqual(exact.map(([d]) => d.id));
      got.forEach(([, score], i) => expect(score).toBeCloseTo(exact[i][1], 5));
    }
    expect(await store.similaritySearch("q0", 5_000)).toHaveLength(1_999);
    await store.addVectors([vectors[1_999]], [documents[1_999]], { ids: [ids[1_999]] });
    expect(store.isTrained).toBe(true);
    expect(await store.similaritySearch("q0", 5_000)).toHaveLength(2_000);
  }, 60_000);

  it("names a bad factory string", async () => {
    const add = (indexType: string) =>
      new ImageFaissStore(queryEmbeddings, { indexType }).addVectors([vectors[0]], [documents[0]], { ids: ["a"] });
    // 32 dimensions do not split into 7 sub-vectors.
    await expect(add("IVF16,PQ7")).rejects.toThrow(/^Invalid faiss index type "IVF16,PQ7": /);
    await expect(add("OPQ8,Nonsense")).rejects.toThrow(/^Invalid faiss index type "OPQ8,Nonsense": /);
  });
});

describe("threads", () => {
  it("threads set faiss' OpenMP thread count for the store's calls", async () => {
    const one = new ImageFaissStore(queryEmbeddings, { indexType: "HNSW16", threads: 1 });
    await one.addVectors(vectors.slice(0, 500), documents.slice(0, 500), { ids: ids.slice(0, 500) });
    expect(await FaissIndex.threadCount()).toBe(1);
    const two = new ImageFaissStore(queryEmbeddings, { indexType: "HNSW16", threads: 2 });
    await two.addVectors(vectors.slice(0, 500), documents.slice(0, 500), { ids: ids.slice(0, 500) });
    expect(await FaissIndex.threadCount()).toBe(2);
    await one.similaritySearchVectorWithScore(queries[0], 5);
    expect(await FaissIndex.threadCount()).toBe(1);
    expect(() => new ImageFaissStore(queryEmbeddings, { threads: 0 })).toThrow(
      "Expected a whole number >= 1 for threads but received 0",
    );
  });

  it("a single query searches on one OpenMP thread, a batch on the index's threads, and the count is restored", async () => {
    const index = await FaissIndex.create(
      DIM,
      "HNSW16",
      "cosine",
      { efSearch: 64, efConstruction: 40, nprobe: 1 },
      {
        threads: 2,
      },
    );
    index.add(Float32Array.from(vectors.slice(0, 500).flat()), DIM);
    // Records the thread count each real search ran with (the search itself is faiss').
    const faiss = (await loadFaiss()) as unknown as { getNumThreads(): number };
    const native = index.native as unknown as { searchBuffer: (...args: unknown[]) => unknown };
    const search = native.searchBuffer.bind(native);
    const seen: number[] = [];
    native.searchBuffer = (...args) => {
      seen.push(faiss.getNumThreads());
      return search(...args);
    };
    const one = index.search(vectors[3], 1);
    expect(one.positions).toEqual([3]);
    expect(one.scores[0]).toBeCloseTo(1, 5);
    expect(await FaissIndex.threadCount()).toBe(2);
    const batch = index.searchMany(Float32Array.from([...vectors[4], ...vectors[5]]), 1);
    expect(batch.map((hit) => hit.positions)).toEqual([[4], [5]]);
    expect(seen).toEqual([1, 2]);
  });
});

describe("without the addon's parameter methods (faiss-node's prebuilt binary)", () => {
  /** Whether the serialised index already holds `tuning` (no byte patch would change it). */
  const carries = (store: ImageFaissStore, tuning: object) => {
    const bytes = store.index.toBuffer();
    const read = (offset: number, length: number) => bytes.subarray(offset, offset + length);
    return searchParamPatches(read, bytes.length, tuning).length === 0;
  };

  it("still gives HNSW over SQ8 its efSearch and IVF-PQ its nprobe, through the index bytes", async () => {
    const prototype = (await loadFaiss()).Index.prototype as unknown as Record<string, unknown>;
    const saved = { setParameter: prototype.setParameter, getParameter: prototype.getParameter };
    delete prototype.setParameter;
    delete prototype.getParameter;
    try {
      const hnsw = new ImageFaissStore(queryEmbeddings, {
        indexType: "HNSW32,SQ8",
        efSearch: 12,
        efConstruction: 60,
        ...ONE,
      });
      await hnsw.addVectors(vectors.slice(0, 1_500), documents.slice(0, 1_500), { ids: ids.slice(0, 1_500) });
      expect(hasParameterMethods(hnsw.index)).toBe(false);
      expect(carries(hnsw, { efSearch: 12 })).toBe(true);
      expect(carries(hnsw, { efSearch: 13 })).toBe(false);
      const pq = new ImageFaissStore(queryEmbeddings, {
        indexType: "IVF16,PQ8",
        trainSize: PQ_TRAIN,
        nprobe: 5,
        ...ONE,
      });
      await pq.addVectors(vectors.slice(0, 1_500), documents.slice(0, 1_500), { ids: ids.slice(0, 1_500) });
      expect(pq.isTrained).toBe(true);
      expect(carries(pq, { nprobe: 5 })).toBe(true);
      expect(carries(pq, { nprobe: 4 })).toBe(false);
    } finally {
      Object.assign(prototype, saved);
    }
  }, 60_000);
});
