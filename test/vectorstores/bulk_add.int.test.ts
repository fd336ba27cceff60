/**
 * Bulk adds through the addon's typed-array methods (scripts/faiss-node/buffer-methods.cc):
 * present in the addon built here, giving the same ids and scores as faiss-node's
 * plain-array methods, and the plain-array path still working where they are absent
 * (faiss-node's prebuilt binary), simulated by hiding them.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { ImageFaissStore } from "../../src/index.js";
import { loadFaiss } from "../../src/utils/imports.js";
import { FaissIndex } from "../../src/vectorstores/faiss_index.js";
import { ROOT } from "../helpers/fixtures.js";
import { clusteredVectors, documentsFor, noEmbeddings } from "../helpers/vectors.js";

const faissNodeDir = dirname(createRequire(join(ROOT, "package.json")).resolve("faiss-node/package.json"));
const builtHere = existsSync(join(faissNodeDir, "faiss-compat.h"));
const METHODS = ["addBuffer", "addBufferAsync", "trainBuffer", "searchBuffer"] as const;
const TUNING = { efSearch: 16, efConstruction: 40, nprobe: 1 };

/** Runs `use` with the typed-array methods removed from every faiss-node class, as in a prebuilt binary. */
async function withoutBufferMethods<T>(use: () => Promise<T>): Promise<T> {
  const faiss = await loadFaiss();
  const prototypes = [faiss.Index, faiss.IndexFlatL2, faiss.IndexFlatIP].map(
    (c) => c.prototype as unknown as Record<string, unknown>,
  );
  const saved = prototypes.map((p) => METHODS.map((m) => p[m]));
  prototypes.forEach((p) => METHODS.forEach((m) => delete p[m]));
  try {
    return await use();
  } finally {
    prototypes.forEach((p, i) => METHODS.forEach((m, j) => saved[i][j] !== undefined && (p[m] = saved[i][j])));
  }
}

async function results(
  options: ConstructorParameters<typeof ImageFaissStore>[1],
  vectors: number[][],
  queries: number[][],
): Promise<{ fast: boolean; hits: [string, number][][] }> {
  const store = new ImageFaissStore(noEmbeddings, options);
  const { documents, ids } = documentsFor(vectors);
  await store.addVectors(vectors, documents, { ids });
  const hits: [string, number][][] = [];
  for (const q of queries) hits.push((await store.similaritySearchVectorWithScore(q, 10)).map(([d, s]) => [d.id!, s]));
  const probe = await FaissIndex.create(vectors[0].length, "Flat", "cosine", TUNING);
  return { fast: probe.hasBufferMethods, hits };
}

describe("bulk add through typed arrays", () => {
  it("is compiled into the addon built here, at the install script's version", async () => {
    const faiss = (await loadFaiss()) as unknown as { bufferMethodsVersion?: number };
    const index = await FaissIndex.create(4, "Flat", "cosine", TUNING);
    // faiss-node's prebuilt binary (no build of ours) has none of them.
    if (!builtHere) return expect(index.hasBufferMethods).toBe(false);
    const source = readFileSync(join(ROOT, "scripts/faiss-node/buffer-methods.cc"), "utf8");
    const version = Number(/constexpr uint32_t VERSION = (\d+);/.exec(source)![1]);
    const record = JSON.parse(readFileSync(join(faissNodeDir, "build/Release/faiss-kernels.json"), "utf8"));
    expect({ recorded: record.bufferMethods, loaded: faiss.bufferMethodsVersion }).toEqual({
      recorded: version,
      loaded: version,
    });
    expect(index.hasBufferMethods).toBe(true);
  });

  // HNSW with 100 vectors: faiss inserts up to 100 vertices of a level on one thread, so
  // the graph, and with it the answer, is deterministic.
  const cases = [
    { name: "Flat (cosine)", options: { indexType: "Flat" }, count: 1_500 },
    { name: "Flat (l2)", options: { indexType: "Flat", metric: "l2" as const }, count: 1_500 },
    { name: "HNSW16", options: { indexType: "HNSW16" }, count: 100 },
    { name: "IVF16,Flat", options: { indexType: "IVF16,Flat", ivfTrainSize: 1_000, nprobe: 4 }, count: 1_500 },
  ];
  for (const { name, options, count } of cases) {
    it(`finds the same ids with the same scores as the plain-array path: ${name}`, async () => {
      const vectors = clusteredVectors(count, 512, 11, 20, 0.05);
      const queries = clusteredVectors(15, 512, 12, 20, 0.05);
      const fast = await results(options, vectors, queries);
      const plain = await withoutBufferMethods(() => results(options, vectors, queries));
      expect({ fast: fast.fast, plain: plain.fast }).toEqual({ fast: builtHere, plain: false });
      expect(fast.hits).toEqual(plain.hits);
      expect(fast.hits.every((h) => h.length === 10)).toBe(true);
      // The nearest neighbour of a stored vector is itself, with similarity 1.
      const own = await results(options, vectors, [vectors[7]]);
      expect(own.hits[0][0][0]).toBe("v7");
      expect(own.hits[0][0][1]).toBeCloseTo(1, 5);
    }, 60_000);
  }

  it("searches many queries in one call as it searches each alone, on both paths", async () => {
    const vectors = clusteredVectors(800, 64, 21, 10, 0.1);
    const queries = clusteredVectors(6, 64, 22, 10, 0.1);
    const build = async () => {
      const index = await FaissIndex.create(64, "Flat", "l2", TUNING);
      index.add(Float32Array.from(vectors.flat()), 64);
      return index;
    };
    const fast = await build();
    const batch = fast.searchMany(Float32Array.from(queries.flat()), 5);
    expect(batch).toEqual(queries.map((q) => fast.search(q, 5)));
    expect(batch.every((r) => r.positions.length === 5)).toBe(true);
    const plainBatch = await withoutBufferMethods(async () =>
      (await build()).searchMany(Float32Array.from(queries.flat()), 5),
    );
    expect(plainBatch).toEqual(batch);
    // k beyond the index's size gives every vector, not padding.
    const small = await FaissIndex.create(64, "Flat", "cosine", TUNING);
    small.add(Float32Array.from(vectors.slice(0, 3).flat()), 64);
    expect(small.searchMany(Float32Array.from(queries.flat()), 10).map((r) => r.positions.length)).toEqual(
      Array(6).fill(3),
    );
    expect(() => small.searchMany(new Float32Array(65), 1)).toThrow(/65 floats, not a whole number of 64-d rows/);
  });

  it("refuses a partial row or the wrong array type with a clear error", async () => {
    const faiss = await loadFaiss();
    const index = new faiss.IndexFlatL2(4) as unknown as Record<string, (...a: unknown[]) => unknown>;
    if (!builtHere) return expect(index.addBuffer).toBeUndefined();
    expect(() => index.addBuffer(new Float32Array(6))).toThrow(
      "addBuffer's vectors has 6 floats, not a whole number of rows of 4",
    );
    expect(() => index.addBuffer(new Float64Array(4))).toThrow("addBuffer's vectors must be a Float32Array");
    expect(() => index.addBuffer([0, 0, 0, 0])).toThrow("addBuffer's vectors must be a Float32Array");
    index.addBuffer(new Float32Array(8));
    expect(() => index.searchBuffer(new Float32Array(4), 0)).toThrow(/k must be a whole number from 1/);
    expect(() => index.searchBuffer(new Float32Array(4), 1.5)).toThrow(/k must be a whole number from 1/);
    const { labels } = index.searchBuffer(new Float32Array(4), 3) as { labels: Float64Array };
    expect(Array.from(labels)).toEqual([0, 1, -1]); // padded with -1, as faiss does
  });
});
