/**
 * Bulk adds with faiss's add on a worker thread (the addon's addBufferAsync), pipelined with
 * the packing of the next chunk (IndexedTable.appendVectors): the same answers as small adds,
 * searches that wait for an add in flight, faiss errors that reject and leave the store as
 * it was, the guard against touching an index mid-add, and the synchronous fallback of
 * faiss-node's prebuilt binary (simulated by hiding our methods, as bulk_add.int.test.ts does).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { ImageFaissStore } from "../../src/index.js";
import { loadFaiss } from "../../src/utils/imports.js";
import { FaissIndex } from "../../src/vectorstores/faiss_index.js";
import { PIPELINE_CHUNK_ROWS } from "../../src/vectorstores/indexed_table.js";
import { ROOT } from "../helpers/fixtures.js";
import { clusteredVectors, documentsFor, noEmbeddings } from "../helpers/vectors.js";

const faissNodeDir = dirname(createRequire(join(ROOT, "package.json")).resolve("faiss-node/package.json"));
const builtHere = existsSync(join(faissNodeDir, "faiss-compat.h"));
const METHODS = ["addBuffer", "addBufferAsync", "trainBuffer", "searchBuffer"] as const;
const TUNING = { efSearch: 16, efConstruction: 40, nprobe: 4 };
const DIM = 32;
/** Two and a half pipeline chunks: three chunks, the last one short. */
const BIG = Math.floor(2.5 * PIPELINE_CHUNK_ROWS);

type Prototype = Record<string, unknown>;
async function prototypes(): Promise<Prototype[]> {
  const faiss = await loadFaiss();
  return [faiss.Index, faiss.IndexFlatL2, faiss.IndexFlatIP].map((c) => c.prototype as unknown as Prototype);
}

/** Runs `use` with our addon's methods removed from every faiss-node class, as in a prebuilt binary. */
async function withoutBufferMethods<T>(use: () => Promise<T>): Promise<T> {
  const all = await prototypes();
  const saved = all.map((p) => METHODS.map((m) => p[m]));
  all.forEach((p) => METHODS.forEach((m) => delete p[m]));
  try {
    return await use();
  } finally {
    all.forEach((p, i) => METHODS.forEach((m, j) => saved[i][j] !== undefined && (p[m] = saved[i][j])));
  }
}

/**
 * Runs `use` with addBufferAsync wrapped: every call's row count is recorded, and `change`
 * may replace a call (given its number and the real call) to inject a failure.
 */
async function watchingAsyncAdds<T>(
  use: (rowCounts: number[]) => Promise<T>,
  change?: (call: number, real: () => Promise<void>) => Promise<void>,
): Promise<T> {
  const all = await prototypes();
  const saved = all.map((p) => p.addBufferAsync as (rows: Float32Array) => Promise<void>);
  const rowCounts: number[] = [];
  all.forEach((p, i) => {
    p.addBufferAsync = function (this: unknown, rows: Float32Array) {
      rowCounts.push(rows.length / DIM);
      const real = () => saved[i].call(this, rows);
      return change ? change(rowCounts.length, real) : real();
    };
  });
  try {
    return await use(rowCounts);
  } finally {
    all.forEach((p, i) => (p.addBufferAsync = saved[i]));
  }
}

const vectors = clusteredVectors(BIG + 2_000, DIM, 31, 40, 0.1);
const queries = clusteredVectors(12, DIM, 32, 40, 0.1);
const { documents, ids } = documentsFor(vectors);
const flatOf = (rows: number[][]) => Float32Array.from(rows.flat());
const documentsOf = (list: string[]) => list.map((id) => new Document({ id, pageContent: id }));

async function hitsOf(store: ImageFaissStore, k = 10): Promise<[string, number][][]> {
  const out: [string, number][][] = [];
  for (const q of queries) out.push((await store.similaritySearchVectorWithScore(q, k)).map(([d, s]) => [d.id!, s]));
  return out;
}

/** A store holding the first 2,000 vectors (an IVF store is trained on them), then the rest added by `addRest`. */
async function storeWith(
  options: ConstructorParameters<typeof ImageFaissStore>[1],
  addRest: (store: ImageFaissStore) => Promise<unknown>,
): Promise<ImageFaissStore> {
  const store = new ImageFaissStore(noEmbeddings, options);
  await store.addVectors(vectors.slice(0, 2_000), documents.slice(0, 2_000), { ids: ids.slice(0, 2_000) });
  await addRest(store);
  return store;
}

/** The rest added a small batch at a time: each batch one native add. */
const inSmallBatches = async (store: ImageFaissStore) => {
  for (let start = 2_000; start < vectors.length; start += 1_000) {
    const end = Math.min(vectors.length, start + 1_000);
    await store.addVectors(vectors.slice(start, end), documents.slice(start, end), { ids: ids.slice(start, end) });
  }
};

describe("pipelined bulk adds (faiss adding on a worker thread)", () => {
  const cases = [
    { name: "Flat", options: { indexType: "Flat" } },
    { name: "IVF16,Flat", options: { indexType: "IVF16,Flat", trainSize: 1_000, ...TUNING } },
  ];
  for (const { name, options } of cases) {
    it(`finds the same ids and scores as small adds, from number[][] and a Float32Array: ${name}`, async () => {
      const small = await hitsOf(await storeWith(options, inSmallBatches));
      const rest = { documents: documents.slice(2_000), ids: ids.slice(2_000) };
      const { arrays, typed, calls } = await watchingAsyncAdds(async (rowCounts) => {
        const arrays = await storeWith(options, (s) =>
          s.addVectors(vectors.slice(2_000), rest.documents, { ids: rest.ids }),
        );
        const calls = rowCounts.splice(0);
        const typed = await storeWith(options, (s) =>
          s.addVectors(flatOf(vectors.slice(2_000)), rest.documents, { ids: rest.ids }),
        );
        return { arrays, typed, calls };
      });
      // The big add reached faiss as chunks (after the first 2,000 in one call); none with the prebuilt binary.
      if (builtHere)
        expect(calls.slice(-3)).toEqual([PIPELINE_CHUNK_ROWS, PIPELINE_CHUNK_ROWS, BIG - 2 * PIPELINE_CHUNK_ROWS]);
      expect(arrays.size).toBe(vectors.length);
      expect(arrays.index.ntotal()).toBe(vectors.length);
      expect(await hitsOf(arrays)).toEqual(small);
      expect(await hitsOf(typed)).toEqual(small);
      expect(small.every((h) => h.length === 10)).toBe(true);
      // A vector from the last chunk finds itself.
      const [[own, score]] = await typed.similaritySearchVectorWithScore(vectors.at(-5)!, 1);
      expect(own.id).toBe(ids.at(-5));
      expect(score).toBeCloseTo(1, 5);
    }, 60_000);
  }

  it("upserts repeated ids across chunk boundaries as small adds do (the last one wins)", async () => {
    const n = BIG;
    // v0..v99 stored from the first chunk, then again in the last one: the later rows win.
    const repeatIds = [...ids.slice(0, n), ...ids.slice(0, 100)];
    const repeatRows = [...vectors.slice(0, n - 100), ...vectors.slice(n, n + 200)];
    expect(repeatRows.length).toBe(repeatIds.length);
    const pipelined = new ImageFaissStore(noEmbeddings);
    await pipelined.addVectors(flatOf(repeatRows), documentsOf(repeatIds), { ids: repeatIds });
    expect(pipelined.size).toBe(n);
    const last = new Map(repeatIds.map((id, i) => [id, repeatRows[i]]));
    const expected = new ImageFaissStore(noEmbeddings);
    const liveIds = [...last.keys()];
    await expected.addVectors(
      liveIds.map((id) => last.get(id)!),
      documentsOf(liveIds),
      { ids: liveIds },
    );
    expect((await hitsOf(pipelined)).map((h) => h.map(([id]) => id))).toEqual(
      (await hitsOf(expected)).map((h) => h.map(([id]) => id)),
    );
    const [v5] = await pipelined.getVectorsById(["v5"]);
    expect(v5![0]).toBeCloseTo(repeatRows[n + 5][0] / Math.hypot(...repeatRows[n + 5]), 5);
  }, 60_000);

  it("answers a search issued during a bulk add once the add is done, with its vectors", async () => {
    const store = new ImageFaissStore(noEmbeddings);
    const order: string[] = [];
    const adding = store.addVectors(flatOf(vectors), documents, { ids }).then(() => order.push("add"));
    const searching = store.similaritySearchVectorWithScore(vectors.at(-1)!, 1).then((r) => {
      order.push("search");
      return r;
    });
    const gettingVector = store.getVectorsById([ids.at(-1)!]).then((r) => {
      order.push("vectors");
      return r;
    });
    const [, [[doc, score]], [vector]] = await Promise.all([adding, searching, gettingVector]);
    expect(order).toEqual(["add", "search", "vectors"]);
    expect(doc.id).toBe(ids.at(-1));
    expect(score).toBeCloseTo(1, 5);
    expect(vector).toHaveLength(DIM);
    expect(store.size).toBe(vectors.length);
  }, 60_000);

  it("rejects with faiss's own message when faiss refuses an asynchronous add, and the index stays usable", async () => {
    const index = await FaissIndex.create(DIM, "IVF4,Flat", "cosine", TUNING);
    const rows = flatOf(vectors.slice(0, 200));
    // faiss refuses to add to an untrained IVF index.
    await expect(index.addAsync(rows, DIM)).rejects.toThrow(
      /faiss could not add 200 vectors to IVF4,Flat: .*is_trained/,
    );
    expect(index.size).toBe(0);
    const trained = await index.train(rows, DIM);
    await trained.addAsync(rows, DIM);
    expect(trained.size).toBe(200);
    expect(trained.search(rows.subarray(0, DIM), 1).positions).toEqual([0]);
  });

  it("leaves the store as it was when faiss fails on a later chunk, and adds again afterwards", async () => {
    const store = new ImageFaissStore(noEmbeddings);
    await store.addVectors(vectors.slice(0, 500), documents.slice(0, 500), { ids: ids.slice(0, 500) });
    const before = await hitsOf(store);
    const rest = vectors.slice(500, 500 + BIG);
    const restIds = ids.slice(500, 500 + BIG);
    // Also re-adds v0..v9: on failure they must keep their old vectors, not be tombstoned.
    const failing = [...vectors.slice(-10), ...rest];
    const failingIds = [...ids.slice(0, 10), ...restIds];
    const failingDocs = documentsOf(failingIds);
    const failed = watchingAsyncAdds(
      () => store.addVectors(flatOf(failing), failingDocs, { ids: failingIds }),
      // The second chunk: faiss's real error, from an add it refuses (an untrained IVF index).
      async (call, real) => {
        if (call !== 2) return real();
        const untrained = await FaissIndex.create(DIM, "IVF4,Flat", "cosine", TUNING);
        return untrained.addAsync(new Float32Array(DIM), DIM);
      },
    );
    if (builtHere)
      await expect(failed).rejects.toThrow(
        new RegExp(
          `^faiss could not add ${PIPELINE_CHUNK_ROWS} vectors to Flat: faiss could not add 1 vectors to IVF4,Flat: .*is_trained`,
        ),
      );
    else await failed; // the prebuilt binary has no asynchronous add to fail
    if (!builtHere) return;
    expect(store.size).toBe(500);
    expect(store.index.ntotal()).toBe(500);
    expect(await hitsOf(store)).toEqual(before);
    const [v3] = await store.getVectorsById(["v3"]);
    expect(v3![0]).toBeCloseTo(vectors[3][0] / Math.hypot(...vectors[3]), 5);
    // The same add, now without a failure, works.
    await store.addVectors(flatOf(rest), failingDocs.slice(10), { ids: restIds });
    expect(store.size).toBe(500 + BIG);
    const [[own]] = await store.similaritySearchVectorWithScore(rest.at(-1)!, 1);
    expect(own.id).toBe(restIds.at(-1));
  }, 60_000);

  it("refuses any other call on an index while an asynchronous add is in flight", async () => {
    const index = await FaissIndex.create(DIM, "Flat", "cosine", TUNING);
    const rows = flatOf(vectors.slice(0, 4_000));
    const adding = index.addAsync(rows, DIM);
    const inFlight = /asynchronous add into this Flat index is in flight: await the add first/;
    expect(() => index.size).toThrow(inFlight);
    expect(() => index.search(rows.subarray(0, DIM), 1)).toThrow(/FaissIndex search was called while/);
    expect(() => index.toBuffer()).toThrow(inFlight);
    expect(() => index.native).toThrow(/FaissIndex the native index was called while/);
    expect(() => index.add(rows, DIM)).toThrow(inFlight);
    await expect(index.addAsync(rows, DIM)).rejects.toThrow(inFlight);
    await adding;
    expect(index.size).toBe(4_000);
    expect(index.search(rows.subarray(0, DIM), 1).positions).toEqual([0]);

    // Through a store: its faiss index is not handed out mid-add; searches wait instead.
    const store = new ImageFaissStore(noEmbeddings);
    await store.addVectors(vectors.slice(0, 10), documents.slice(0, 10), { ids: ids.slice(0, 10) });
    const storeAdding = store.addVectors(flatOf(vectors.slice(10)), documents.slice(10), { ids: ids.slice(10) });
    // Let the add start: its table exists, its first chunk is with faiss.
    await new Promise((resolve) => setImmediate(resolve));
    if (builtHere) expect(() => store.index).toThrow(inFlight);
    await storeAdding;
    expect(store.index.ntotal()).toBe(vectors.length);
  }, 60_000);

  it("adds as before with faiss-node's prebuilt binary (no asynchronous add): same results", async () => {
    const options = { indexType: "IVF16,Flat", trainSize: 1_000, ...TUNING };
    const addRest = (s: ImageFaissStore) =>
      s.addVectors(flatOf(vectors.slice(2_000)), documents.slice(2_000), { ids: ids.slice(2_000) });
    const fast = await hitsOf(await storeWith(options, addRest));
    const plain = await withoutBufferMethods(async () => {
      const store = await storeWith(options, addRest);
      expect(store.index.ntotal()).toBe(vectors.length);
      return hitsOf(store);
    });
    expect(plain).toEqual(fast);
  }, 120_000);
});
