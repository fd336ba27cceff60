/** ImageFaissStore with tiny-clip and real faiss-node: adding, scoring, filters, upserts, deletes. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ImageBatchError, ImageEmbeddings, ImageFaissStore, ImageInputError } from "../../src/index.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { CLASSES, renderShape } from "../helpers/shapes.js";

describe("ImageFaissStore", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  let dir: string;
  let cleanup: () => Promise<void>;
  let paths: string[];
  let labels: string[];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const gallery = CLASSES.flatMap((c, i) => [0, 1, 2].map((k) => ({ ...c, seed: 500 + 10 * i + k })));
    labels = gallery.map((g) => g.label);
    paths = await Promise.all(
      gallery.map(async (g, i) => {
        const path = join(dir, `${g.label.replace(" ", "-")}-${i}.png`);
        await writeFile(path, await renderShape(g));
        return path;
      }),
    );
  });
  afterAll(async () => {
    await cleanup();
    await embeddings.dispose();
  });

  it("stores one Document per image with source, hash, size and user metadata", async () => {
    const store = new ImageFaissStore(embeddings);
    const { ids, failures } = await store.addImages(paths.slice(0, 3), { metadatas: { album: "shapes" } });
    expect(failures).toEqual([]);
    expect(store.size).toBe(3);
    const [[doc]] = await store.similaritySearchVectorWithScore(await embeddings.embedImage(paths[1]), 1);
    expect(doc.id).toBe(ids[1]);
    expect(doc.pageContent).toBe(paths[1]);
    expect(doc.metadata).toMatchObject({
      source: paths[1],
      album: "shapes",
      width: 256,
      height: 256,
      format: "png",
      modality: "image",
    });
    expect(doc.metadata.contentHash).toBe(ids[1]);
  });

  it("never puts base64 in pageContent, and names bytes by hash", async () => {
    const store = new ImageFaissStore(embeddings);
    const png = await renderShape({ colour: "red", shape: "star", seed: 1 });
    const { ids } = await store.addImages([png.toString("base64")]);
    const [doc] = await store.similaritySearch("a red star", 1);
    expect(doc.pageContent).toBe(`image:${ids[0]}`);
    expect(doc.metadata.source).toBeUndefined();
  });

  it("stores the same image content once (upsert by content hash)", async () => {
    const store = new ImageFaissStore(embeddings);
    const png = await renderShape({ colour: "blue", shape: "square", seed: 2 });
    await store.addImages([png, png.toString("base64"), paths[0]]);
    await store.addImages([png]);
    expect(store.size).toBe(2);
    expect(await store.similaritySearch("anything", 10)).toHaveLength(2);
  });

  it("replaces the Document and vector of an existing id", async () => {
    const store = new ImageFaissStore(embeddings);
    await store.addImages([paths[0]], { ids: ["photo"], metadatas: [{ version: 1 }] });
    await store.addImages([paths[40]], { ids: ["photo"], metadatas: [{ version: 2 }] });
    expect(store.size).toBe(1);
    const [[doc, score]] = await store.similaritySearchVectorWithScore(await embeddings.embedImage(paths[40]), 5);
    expect(doc.metadata.version).toBe(2);
    expect(score).toBeCloseTo(1, 5);
  });

  it("reports bad images and adds the good ones", async () => {
    const store = new ImageFaissStore(embeddings);
    const { ids, failures } = await store.addImages([paths[0], join(dir, "missing.png"), paths[1]]);
    expect(ids[0]).toBeDefined();
    expect(ids[1]).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(ImageInputError);
    expect(failures[0].message).toContain("missing.png: no such file");
    expect(store.size).toBe(2);
    await expect(store.addImages([paths[2], join(dir, "missing.png")], { failFast: true })).rejects.toThrow(
      /missing\.png/,
    );
    expect(store.size).toBe(2);
  });

  it("builds a store with fromImages, rejecting with every bad input named", async () => {
    const store = await ImageFaissStore.fromImages(paths.slice(0, 4), embeddings, {
      indexType: "HNSW16",
      metadatas: { set: "a" },
    });
    expect(store.size).toBe(4);
    expect(store.indexType).toBe("HNSW16");
    expect((await store.similaritySearch("x", 1))[0].metadata.set).toBe("a");
    const error = await ImageFaissStore.fromImages([paths[0], join(dir, "nope.png")], embeddings).catch((e) => e);
    expect(error).toBeInstanceOf(ImageBatchError);
    expect(error.message).toContain("nope.png: no such file");
  });

  it("keeps getMapping() (index position -> id) current through adds, upserts and deletes", async () => {
    const store = new ImageFaissStore(embeddings);
    const unit = (i: number) => Array.from({ length: 64 }, (_, j) => (j === i ? 1 : 0));
    await store.addVectors(
      [unit(0), unit(1), unit(2)],
      ["a", "b", "c"].map((id) => new Document({ pageContent: id, id })),
    );
    expect(store.getMapping()).toEqual({ 0: "a", 1: "b", 2: "c" });
    await store.addVectors([unit(3)], [new Document({ pageContent: "b2", id: "b" })]);
    expect(store.getMapping()).toEqual({ 0: "a", 2: "c", 3: "b" });
    await store.delete({ ids: ["a"] });
    // Two of four positions were dead, over the 25% that triggers a compacting rebuild.
    expect(store.getMapping()).toEqual({ 0: "c", 1: "b" });
  });

  it("holds text Documents beside images", async () => {
    const store = new ImageFaissStore(embeddings);
    await store.addImages(paths.slice(0, 6));
    await store.addDocuments([
      new Document({ pageContent: "a photo of a red circle", metadata: { modality: "text" } }),
    ]);
    const results = await store.similaritySearch("a photo of a red circle", 1);
    expect(results[0].metadata.modality).toBe("text");
  });

  it("builds text stores with fromTexts and fromDocuments, as LangChain's FaissStore does", async () => {
    const texts = ["a photo of a red circle", "a photo of a blue square"];
    const fromTexts = await ImageFaissStore.fromTexts(texts, [{ n: 0 }, { n: 1 }], embeddings, { metric: "l2" });
    expect(fromTexts.metric).toBe("l2");
    const [[best, score]] = await fromTexts.similaritySearchWithScore("a photo of a blue square", 1);
    expect([best.pageContent, best.metadata]).toEqual([texts[1], { n: 1 }]);
    expect(score).toBeCloseTo(1, 5);
    const fromDocuments = await ImageFaissStore.fromDocuments(
      texts.map((pageContent, i) => new Document({ pageContent, id: `t${i}` })),
      embeddings,
    );
    expect((await fromDocuments.similaritySearch("a photo of a red circle", 1))[0].id).toBe("t0");
  });

  it("scores are cosine similarities, the same through every search method", async () => {
    const store = new ImageFaissStore(embeddings);
    await store.addImages(paths);
    const query = await embeddings.embedQuery("a photo of a green star");
    const byVector = await store.similaritySearchVectorWithScore(query, 10);
    const byText = await store.similaritySearchWithScore("a photo of a green star", 10);
    expect(byText.map(([d, s]) => [d.id, s])).toEqual(byVector.map(([d, s]) => [d.id, s]));
    for (const [doc, score] of byVector) {
      const vector = (await store.getVectorsById([doc.id!]))[0]!;
      const cosine = vector.reduce((s, x, i) => s + x * query[i], 0);
      expect(score).toBeCloseTo(cosine, 5);
      expect(score).toBeGreaterThanOrEqual(-1);
      expect(score).toBeLessThanOrEqual(1);
    }
    expect(byVector.map(([, s]) => s)).toEqual([...byVector.map(([, s]) => s)].sort((a, b) => b - a));
    // tiny-clip separates colours reliably (not yet shapes): the best match is green.
    expect(labels[paths.indexOf(byVector[0][0].metadata.source)]).toMatch(/^green /);
  });

  it("with the l2 metric, scores 1 - |a-b|^2/2: the cosine of unit vectors", async () => {
    const cosine = new ImageFaissStore(embeddings);
    const l2 = new ImageFaissStore(embeddings, { metric: "l2" });
    await cosine.addImages(paths.slice(0, 12));
    await l2.addImages(paths.slice(0, 12));
    const a = await cosine.similaritySearchWithScore("a yellow circle", 12);
    const b = await l2.similaritySearchWithScore("a yellow circle", 12);
    expect(b.map(([d]) => d.id)).toEqual(a.map(([d]) => d.id));
    b.forEach(([, s], i) => expect(s).toBeCloseTo(a[i][1], 4));
  });

  it("applies object and function filters and still returns k matches", async () => {
    const store = new ImageFaissStore(embeddings);
    await store.addImages(paths, { metadatas: paths.map((_, i) => ({ label: labels[i], even: i % 2 === 0 })) });
    // Only three images are blue circles; they rank far below red ones for this query.
    const blue = await store.similaritySearch("a photo of a red square", 3, { label: "blue circle" });
    expect(blue.map((d) => d.metadata.label)).toEqual(["blue circle", "blue circle", "blue circle"]);
    const oneOf = await store.similaritySearch("a red square", 6, { label: ["green star", "purple triangle"] });
    expect(oneOf).toHaveLength(6);
    expect(new Set(oneOf.map((d) => d.metadata.label))).toEqual(new Set(["green star", "purple triangle"]));
    const even = await store.similaritySearch("a red square", 20, (d) => d.metadata.even === true);
    expect(even).toHaveLength(20);
    expect(even.every((d) => d.metadata.even)).toBe(true);
    expect(await store.similaritySearch("x", 5, { label: "no such label" })).toEqual([]);
  });

  it("returns everything, without warnings, when k exceeds the store", async () => {
    const warn = vi.spyOn(console, "warn");
    const store = new ImageFaissStore(embeddings);
    await store.addImages(paths.slice(0, 5));
    expect(await store.similaritySearch("a star", 100)).toHaveLength(5);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it("refuses wrong dimensions and bad k with clear errors", async () => {
    const store = new ImageFaissStore(embeddings);
    await store.addImages(paths.slice(0, 2));
    await expect(store.similaritySearchVectorWithScore([1, 2, 3], 1)).rejects.toThrow(
      /Query has 3 dimensions but the store holds \d+-d vectors/,
    );
    await expect(store.addVectors([[1, 2]], [new Document({ pageContent: "x" })])).rejects.toThrow(
      /Vector 0 has 2 dimensions/,
    );
    await expect(store.similaritySearch("x", 0)).rejects.toThrow(/positive integer for k/);
    expect(() => new ImageFaissStore(embeddings, { metric: "dot" as never })).toThrow(/metric/);
    await expect(new ImageFaissStore(embeddings, { indexType: "Bogus7" }).addImages(paths.slice(0, 1))).rejects.toThrow(
      /Invalid faiss index type "Bogus7"/,
    );
  });

  for (const indexType of ["Flat", "HNSW16", "IVF4,Flat"]) {
    it(`deletes correctly with ${indexType}`, async () => {
      const store = new ImageFaissStore(embeddings, { indexType, ivfTrainSize: 16 });
      const { ids } = await store.addImages(paths.slice(0, 24));
      expect(store.isTrained).toBe(true);
      const query = await embeddings.embedImage(paths[5]);
      const [[top]] = await store.similaritySearchVectorWithScore(query, 1);
      expect(top.id).toBe(ids[5]);
      await store.delete({ ids: [ids[5]!, ids[6]!] });
      expect(store.size).toBe(22);
      const after = await store.similaritySearch("anything", 100);
      expect(after).toHaveLength(22);
      expect(after.map((d) => d.id)).not.toContain(ids[5]);
      // Enough deletes trigger a rebuild; results stay right.
      await store.delete({ ids: ids.slice(10, 20) as string[] });
      expect(await store.similaritySearch("anything", 100)).toHaveLength(12);
      await expect(store.delete({ ids: ["nope"] })).rejects.toThrow(/unknown ids: nope/);
      await store.addImages([paths[5]]);
      expect((await store.similaritySearchVectorWithScore(query, 1))[0][0].id).toBe(ids[5]);
    });
  }
});
