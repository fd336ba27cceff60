/**
 * Search parameters given to `load` (HNSW efSearch, IVF nprobe) reach faiss, while the
 * saved index file stays as it was: the addon sets them in memory after faiss reads the file
 * in place (a prebuilt faiss-node reads a patched copy instead; faiss_index.ts).
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageFaissStore } from "../../src/index.js";
import { searchParamPatches, type SearchTuning } from "../../src/vectorstores/faiss_params.js";
import { tempDir } from "../helpers/fixtures.js";
import { rng } from "../helpers/shapes.js";
import { documentsFor, noEmbeddings } from "../helpers/vectors.js";

/** Uniform random unit vectors: the hardest case for a graph or a coarse quantiser, so their parameters show. */
function uniformVectors(count: number, dimension: number, seed: number): number[][] {
  const random = rng(seed);
  return Array.from({ length: count }, () => {
    const v = Array.from({ length: dimension }, () => random() - 0.5);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
}

async function recallAt10(store: ImageFaissStore, exact: ImageFaissStore, queries: number[][]): Promise<number> {
  let hits = 0;
  for (const q of queries) {
    const truth = new Set((await exact.similaritySearchVectorWithScore(q, 10)).map(([d]) => d.id));
    hits += (await store.similaritySearchVectorWithScore(q, 10)).filter(([d]) => truth.has(d.id)).length;
  }
  return hits / (10 * queries.length);
}

const fileHash = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
const savedIndex = async (dir: string) =>
  join(dir, (await readFile(join(dir, "CURRENT"), "utf8")).trim(), "faiss.index");
/** Whether the index a store holds carries `tuning` already (no patch would change it). */
const carries = (store: ImageFaissStore, tuning: Partial<SearchTuning>) => {
  const bytes = store.index.toBuffer();
  return (
    searchParamPatches((offset, length) => bytes.subarray(offset, offset + length), bytes.length, tuning).length === 0
  );
};

describe("search parameters at load", () => {
  const vectors = uniformVectors(3_000, 32, 5);
  const queries = uniformVectors(40, 32, 6);
  const { documents, ids } = documentsFor(vectors);
  let dir: string;
  let cleanup: () => Promise<void>;
  let exact: ImageFaissStore;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    exact = new ImageFaissStore(noEmbeddings);
    await exact.addVectors(vectors, documents, { ids });
  });
  afterAll(() => cleanup());

  /** A store of the first `count` vectors saved under `name`: its folder, its faiss.index, and that file's hash. */
  async function savedStore(
    options: ConstructorParameters<typeof ImageFaissStore>[1],
    name: string,
    count = vectors.length,
  ) {
    const store = new ImageFaissStore(noEmbeddings, options);
    await store.addVectors(vectors.slice(0, count), documents.slice(0, count), { ids: ids.slice(0, count) });
    const target = join(dir, name);
    await store.save(target);
    const file = await savedIndex(target);
    return { target, file, hash: await fileHash(file) };
  }

  it("HNSW: efSearch given to load changes recall; the saved file is untouched", async () => {
    const { target, file, hash: before } = await savedStore({ indexType: "HNSW4", efSearch: 10 }, "hnsw");

    const narrow = await ImageFaissStore.load(target, noEmbeddings);
    const wide = await ImageFaissStore.load(target, noEmbeddings, { efSearch: 500 });
    expect(carries(narrow, { efSearch: 10 })).toBe(true);
    expect(carries(wide, { efSearch: 500 })).toBe(true);
    const [narrowRecall, wideRecall] = [
      await recallAt10(narrow, exact, queries),
      await recallAt10(wide, exact, queries),
    ];
    console.log(`HNSW4 over 3k uniform 32-d vectors, recall@10: efSearch 10 → ${narrowRecall}, 500 → ${wideRecall}`);
    expect(wideRecall).toBeGreaterThanOrEqual(0.98);
    expect(narrowRecall).toBeLessThan(wideRecall - 0.1);
    expect(await fileHash(file)).toBe(before);
    // Loaded again without options, it has the efSearch it was saved with, not the default.
    expect(await recallAt10(await ImageFaissStore.load(target, noEmbeddings), exact, queries)).toBe(narrowRecall);
  }, 60_000);

  it("IVF: nprobe given to load changes recall; the saved file is untouched", async () => {
    const {
      target,
      file,
      hash: before,
    } = await savedStore({ indexType: "IVF32,Flat", ivfTrainSize: 2_000, nprobe: 1 }, "ivf");

    const one = await ImageFaissStore.load(target, noEmbeddings);
    expect(carries(one, { nprobe: 1 })).toBe(true);
    const all = await ImageFaissStore.load(target, noEmbeddings, { nprobe: 32 });
    expect(await recallAt10(all, exact, queries)).toBe(1);
    expect(await recallAt10(one, exact, queries)).toBeLessThan(0.8);
    expect(await fileHash(file)).toBe(before);
  }, 60_000);

  it("a corrupt index file is an error naming the file", async () => {
    const { target, file } = await savedStore({}, "corrupt", 10);
    await writeFile(file, Buffer.from("not a faiss index at all"));
    await expect(ImageFaissStore.load(target, noEmbeddings)).rejects.toThrow(`Cannot read the faiss index ${file}`);
  });
});
