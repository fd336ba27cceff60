/** Flat, HNSW and IVF through faiss factory strings, on real faiss-node. */
import { describe, expect, it } from "vitest";
import { ImageFaissStore } from "../../src/index.js";
import { clusteredVectors, documentsFor, noEmbeddings } from "../helpers/vectors.js";

async function topIds(store: ImageFaissStore, queries: number[][], k: number): Promise<string[][]> {
  const out: string[][] = [];
  for (const q of queries) out.push((await store.similaritySearchVectorWithScore(q, k)).map(([d]) => d.id!));
  return out;
}

function recall(found: string[][], truth: string[][]): number {
  let hits = 0;
  found.forEach((ids, i) => (hits += ids.filter((id) => truth[i].includes(id)).length));
  return hits / truth.flat().length;
}

describe("index types", () => {
  const vectors = clusteredVectors(10_000, 512, 7, 200, 0.04);
  const { documents, ids } = documentsFor(vectors);
  const queries = clusteredVectors(100, 512, 99, 200, 0.04).map((q, i) =>
    vectors[i * 97].map((x, j) => x + 0.5 * q[j] * 0.05),
  );

  it("HNSW finds >= 0.95 of flat's top 10 over 10k vectors", async () => {
    const flat = new ImageFaissStore(noEmbeddings);
    const hnsw = new ImageFaissStore(noEmbeddings, { indexType: "HNSW32" });
    await flat.addVectors(vectors, documents, { ids });
    await hnsw.addVectors(vectors, documents, { ids });
    const r = recall(await topIds(hnsw, queries, 10), await topIds(flat, queries, 10));
    console.log(`HNSW32 recall@10 against flat over 10k 512-d vectors: ${r.toFixed(3)}`);
    expect(r).toBeGreaterThanOrEqual(0.95);
  }, 180_000);

  it("IVF searches exactly until trained, then trains once it has ivfTrainSize vectors", async () => {
    const subset = vectors.slice(0, 2_000);
    const flat = new ImageFaissStore(noEmbeddings);
    await flat.addVectors(subset, documents.slice(0, 2_000), { ids: ids.slice(0, 2_000) });
    const truth = await topIds(flat, queries.slice(0, 20), 10);

    const ivf = new ImageFaissStore(noEmbeddings, { indexType: "IVF16,Flat", ivfTrainSize: 1_000, nprobe: 1 });
    await ivf.addVectors(subset.slice(0, 999), documents.slice(0, 999), { ids: ids.slice(0, 999) });
    expect(ivf.isTrained).toBe(false);
    // Before training: exact search over what it holds, so it agrees with flat on the same vectors.
    const flatSmall = new ImageFaissStore(noEmbeddings);
    await flatSmall.addVectors(subset.slice(0, 999), documents.slice(0, 999), { ids: ids.slice(0, 999) });
    expect(await topIds(ivf, queries.slice(0, 20), 10)).toEqual(await topIds(flatSmall, queries.slice(0, 20), 10));

    await ivf.addVectors(subset.slice(999), documents.slice(999, 2_000), { ids: ids.slice(999, 2_000) });
    expect(ivf.isTrained).toBe(true);
    expect(ivf.size).toBe(2_000);
    const approximate = recall(await topIds(ivf, queries.slice(0, 20), 10), truth);

    const ivfAllLists = new ImageFaissStore(noEmbeddings, { indexType: "IVF16,Flat", ivfTrainSize: 1_000, nprobe: 16 });
    await ivfAllLists.addVectors(subset, documents.slice(0, 2_000), { ids: ids.slice(0, 2_000) });
    const exhaustive = recall(await topIds(ivfAllLists, queries.slice(0, 20), 10), truth);
    // nprobe really reaches faiss: probing every list is exact, one list is not.
    expect(exhaustive).toBe(1);
    expect(approximate).toBeLessThan(1);
  }, 120_000);

  it("supports IVF-PQ through its factory string", async () => {
    const store = new ImageFaissStore(noEmbeddings, { indexType: "IVF8,PQ16", ivfTrainSize: 2_000, nprobe: 8 });
    await store.addVectors(vectors.slice(0, 3_000), documents.slice(0, 3_000), { ids: ids.slice(0, 3_000) });
    expect(store.isTrained).toBe(true);
    // PQ compresses each vector to 16 bytes: the exact match ranks near, not always at, the top.
    const found = (await store.similaritySearchVectorWithScore(vectors[123], 10)).map(([d]) => d.id);
    expect(found).toContain("v123");
  }, 120_000);

  it("refuses an ivfTrainSize below the number of lists", () => {
    expect(() => new ImageFaissStore(noEmbeddings, { indexType: "IVF64,Flat", ivfTrainSize: 10 })).toThrow(
      "ivfTrainSize (10) must be at least the number of IVF lists (64)",
    );
  });
});
