/**
 * `ImageFaissStore.addVectors` with one Float32Array of rows instead of `number[][]`: the same
 * store either way (ids, scores, stored vectors, upserts, filters, training, vectors on disk),
 * the caller's array copied rather than kept, and a wrong length refused by name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageFaissStore } from "../../src/index.js";
import { tempDir } from "../helpers/fixtures.js";
import { clusteredVectors, documentsFor, noEmbeddings } from "../helpers/vectors.js";

const DIM = 48;
type Options = NonNullable<ConstructorParameters<typeof ImageFaissStore>[1]>;

/** Rows scaled away from unit length, so the store's normalisation is exercised. */
function scaledRows(count: number, seed: number): number[][] {
  return clusteredVectors(count, DIM, seed, 12, 0.1).map((v, i) => v.map((x) => x * (0.5 + (i % 7))));
}

async function searchAll(store: ImageFaissStore, queries: number[][]) {
  const hits = [];
  for (const q of queries) {
    hits.push((await store.similaritySearchVectorWithScore(q, 5)).map(([d, s]) => [d.id, d.metadata.i, s]));
  }
  return hits;
}

describe("addVectors with a Float32Array of rows", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("lie-typed-add-"));
  });
  afterAll(async () => {
    await cleanup();
  });

  const cases: { name: string; options: Options }[] = [
    { name: "Flat, cosine", options: {} },
    { name: "Flat, l2", options: { metric: "l2" } },
    { name: "IVF8,Flat (trained by the adds)", options: { indexType: "IVF8,Flat", trainSize: 300, nprobe: 8 } },
    { name: "Flat, vectors on disk", options: { vectorsOnDisk: true } },
  ];
  for (const { name, options } of cases) {
    it(`builds the same store as number[][]: ${name}`, async () => {
      const vectors = scaledRows(500, 3);
      const queries = scaledRows(8, 4);
      const { documents, ids } = documentsFor(vectors);
      const arrays = new ImageFaissStore(noEmbeddings, {
        ...options,
        vectorsDir: options.vectorsOnDisk ? dir : undefined,
      });
      const typed = new ImageFaissStore(noEmbeddings, {
        ...options,
        vectorsDir: options.vectorsOnDisk ? dir : undefined,
      });
      // Two batches each, so the second appends to a store that holds vectors (and trains IVF).
      for (const [from, to] of [
        [0, 200],
        [200, 500],
      ]) {
        await arrays.addVectors(vectors.slice(from, to), documents.slice(from, to), { ids: ids.slice(from, to) });
        const flat = Float32Array.from(vectors.slice(from, to).flat());
        expect(await typed.addVectors(flat, documents.slice(from, to), { ids: ids.slice(from, to) })).toEqual(
          ids.slice(from, to),
        );
      }
      expect(typed.size).toBe(500);
      expect(typed.isTrained).toBe(true);
      expect(await searchAll(typed, queries)).toEqual(await searchAll(arrays, queries));
      expect(await typed.getVectorsById(["v0", "v499", "v250"])).toEqual(
        await arrays.getVectorsById(["v0", "v499", "v250"]),
      );
      const [stored] = await typed.getVectorsById(["v3"]);
      const norm = Math.hypot(...stored!);
      // cosine stores unit vectors; l2 keeps the lengths given.
      if (options.metric === "l2") expect(norm).toBeCloseTo(Math.hypot(...vectors[3]), 4);
      else expect(norm).toBeCloseTo(1, 5);
      const filtered = await typed.similaritySearchVectorWithScore(queries[0], 3, (d) => d.metadata.i % 2 === 1);
      expect(filtered.map(([d]) => d.metadata.i % 2)).toEqual([1, 1, 1]);
    });
  }

  it("upserts: a stored id is replaced, and of ids repeated in one batch the last wins", async () => {
    const vectors = scaledRows(6, 5);
    const { documents, ids } = documentsFor(vectors);
    const store = new ImageFaissStore(noEmbeddings);
    await store.addVectors(Float32Array.from(vectors.slice(0, 4).flat()), documents.slice(0, 4), {
      ids: ids.slice(0, 4),
    });
    // v1 again (with vector 4), then v5, then v1 once more (with vector 5): the last v1 wins.
    await store.addVectors(Float32Array.from([vectors[4], vectors[5], vectors[5]].flat()), documents.slice(3, 6), {
      ids: ["v1", "v5", "v1"],
    });
    expect(store.size).toBe(5);
    expect(
      store
        .entries()
        .map((e) => e.id)
        .sort(),
    ).toEqual(["v0", "v1", "v2", "v3", "v5"]);
    const [v1, v5] = await store.getVectorsById(["v1", "v5"]);
    expect(v1).toEqual(v5);
    const [[best, score]] = await store.similaritySearchVectorWithScore(vectors[5], 1, (d) => d.id === "v1");
    expect(best.id).toBe("v1");
    expect(score).toBeCloseTo(1, 5);
  });

  it("copies the caller's array: changing it afterwards changes nothing stored", async () => {
    const vectors = scaledRows(3, 6);
    const { documents, ids } = documentsFor(vectors);
    const flat = Float32Array.from(vectors.flat());
    const store = new ImageFaissStore(noEmbeddings, { metric: "l2" });
    await store.addVectors(flat, documents, { ids });
    const before = await store.getVectorsById(ids);
    flat.fill(7);
    expect(await store.getVectorsById(ids)).toEqual(before);
    expect(before[0]).toEqual(Array.from(Float32Array.from(vectors[0])));
  });

  it("refuses a length that is not one vector per document, naming the sizes", async () => {
    const { documents, ids } = documentsFor(scaledRows(3, 7));
    const store = new ImageFaissStore(noEmbeddings);
    await expect(store.addVectors(new Float32Array(3 * DIM + 1), documents, { ids })).rejects.toThrow(
      `Got a Float32Array of ${3 * DIM + 1} floats for 3 documents: expected a multiple of 3 floats`,
    );
    await expect(store.addVectors(new Float32Array(DIM), [], {})).rejects.toThrow(
      `Got a Float32Array of ${DIM} floats but no documents`,
    );
    expect(store.size).toBe(0);
    await store.addVectors(new Float32Array(3 * DIM).fill(1), documents, { ids });
    // Once the store holds 48-d vectors, 3 × 32 floats are the wrong size, though a multiple of 3.
    await expect(store.addVectors(new Float32Array(3 * 32), documents, { ids })).rejects.toThrow(
      `Got a Float32Array of 96 floats for 3 documents: expected 3 × ${DIM} = ${3 * DIM} floats`,
    );
    expect(store.size).toBe(3);
  });

  it("mergeFrom hands the other store's rows over this way: its entries, upserted, vectors and scores alike", async () => {
    const vectors = scaledRows(40, 8);
    const { documents, ids } = documentsFor(vectors);
    const target = new ImageFaissStore(noEmbeddings);
    await target.addVectors(vectors.slice(0, 20), documents.slice(0, 20), { ids: ids.slice(0, 20) });
    const other = new ImageFaissStore(noEmbeddings);
    // v10..v39: v10..v19 are in both (upserted), and v12 is deleted from the other first.
    await other.addVectors(vectors.slice(10), documents.slice(10), { ids: ids.slice(10) });
    await other.delete({ ids: ["v12"] });
    expect(await target.mergeFrom(other)).toEqual(ids.slice(10).filter((id) => id !== "v12"));
    expect(target.size).toBe(40);
    const whole = new ImageFaissStore(noEmbeddings);
    await whole.addVectors(vectors, documents, { ids });
    expect(await target.getVectorsById(ids)).toEqual(await whole.getVectorsById(ids));
    expect(await searchAll(target, scaledRows(4, 9))).toEqual(await searchAll(whole, scaledRows(4, 9)));
    expect(await new ImageFaissStore(noEmbeddings).mergeFrom(new ImageFaissStore(noEmbeddings))).toEqual([]);
  });
});
