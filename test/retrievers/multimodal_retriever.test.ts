/**
 * MultimodalRetriever's search logic with hand-made vectors (no model): the arithmetic,
 * every option, exclude-self re-fetching, MMR's vector lookup, validation and callbacks.
 * The same behaviour with the real tiny-clip model is in multimodal_retriever.int.test.ts.
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import { MemoryVectorStore } from "@langchain/classic/vectorstores/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageEmbeddingResult } from "../../src/embeddings/image_embeddings.js";
import { ImageInputError } from "../../src/errors.js";
import { MultimodalRetriever } from "../../src/retrievers/multimodal_retriever.js";
import { QueryError } from "../../src/retrievers/query.js";
import { tempDir } from "../helpers/fixtures.js";

const hash = (key: string) => createHash("sha256").update(key).digest("hex");
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

/** Texts and images map to fixed vectors; an image is named by a string key (or bytes holding it). */
class TableEmbeddings {
  calls: { texts: string[][]; images: number } = { texts: [], images: 0 };
  constructor(private readonly table: Record<string, number[]>) {}
  private lookup(key: string): number[] {
    const v = this.table[key];
    if (!v) throw new Error(`no vector for ${key}`);
    return v;
  }
  async embedQuery(text: string) {
    return this.lookup(text);
  }
  async embedDocuments(texts: string[]) {
    this.calls.texts.push(texts);
    return texts.map((t) => this.lookup(t));
  }
  async embedImagesSettled(inputs: unknown[]): Promise<ImageEmbeddingResult[]> {
    this.calls.images += 1;
    return inputs.map((input, index) => {
      const key = typeof input === "string" ? input : Buffer.from(input as Uint8Array).toString();
      if (key === "missing.png")
        return { index, error: new ImageInputError("missing.png", "no such file", "NOT_FOUND", index) };
      return {
        index,
        embedding: this.lookup(key),
        image: {
          source: typeof input === "string" ? input : undefined,
          width: 1,
          height: 1,
          format: "png",
          contentHash: hash(key),
        },
      };
    });
  }
}

// A 3-d toy space: x = "red", y = "blue", z = "circle".
const TABLE: Record<string, number[]> = {
  red: [1, 0, 0],
  blue: [0, 1, 0],
  circle: [0, 0, 1],
  "red circle": unit([1, 0, 1]),
  "blue circle": unit([0, 1, 1]),
  "img:red-circle": unit([1, 0, 0.9]),
  "img:red-circle-2": unit([1, 0.02, 0.9]),
  "img:blue-circle": unit([0, 1, 1]),
  "img:red": [1, 0, 0],
  "img:blue": [0, 1, 0],
  "img:purple": unit([1, 1, 0]),
};
const IMAGES = ["img:red-circle", "img:red-circle-2", "img:blue-circle", "img:red", "img:blue", "img:purple"];

async function makeStore(images = IMAGES, { withIds = true } = {}) {
  const embeddings = new TableEmbeddings(TABLE);
  const store = new MemoryVectorStore(embeddings as never);
  await store.addVectors(
    images.map((key) => TABLE[key]),
    images.map(
      (key, i) =>
        new Document({
          pageContent: key,
          metadata: { source: `${key}.png`, contentHash: hash(key), index: i },
          id: withIds ? `id-${i}-${key}` : undefined,
        }),
    ),
  );
  return { store, embeddings };
}

const sources = (docs: Document[]) => docs.map((d) => d.metadata.source);

describe("MultimodalRetriever (toy vectors)", () => {
  it("has a LangChain name and namespace", async () => {
    const { store } = await makeStore();
    const retriever = new MultimodalRetriever({ vectorStore: store });
    expect(MultimodalRetriever.lc_name()).toBe("MultimodalRetriever");
    expect(retriever.lc_namespace).toEqual(["langchain_image_embeddings", "retrievers"]);
  });

  it("defaults to k = 4, best first, with score and source on copies of the store's documents", async () => {
    const { store } = await makeStore();
    const retriever = new MultimodalRetriever({ vectorStore: store });
    expect([retriever.k, retriever.searchType, retriever.fetchK, retriever.lambda]).toEqual([4, "similarity", 20, 0.5]);
    expect([retriever.excludeQueryImage, retriever.includeImageData, retriever.scoreThreshold]).toEqual([
      true,
      false,
      undefined,
    ]);
    const docs = await retriever.invoke("red circle");
    expect(docs).toHaveLength(4);
    expect(sources(docs).slice(0, 2)).toEqual(["img:red-circle.png", "img:red-circle-2.png"]);
    const scores = docs.map((d) => d.metadata.score as number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores[0]).toBeCloseTo(1.9 / Math.SQRT2 / Math.hypot(1, 0.9), 6);
    expect(docs[0].id).toBe("id-0-img:red-circle");
    // The store's own documents are untouched.
    for (const m of store.memoryVectors) expect(m.metadata).not.toHaveProperty("score");
    docs[0].metadata.extra = 1;
    expect(store.memoryVectors[0].metadata).not.toHaveProperty("extra");
  });

  it("applies k", async () => {
    const { store } = await makeStore();
    expect(await new MultimodalRetriever({ vectorStore: store, k: 1 }).invoke("blue")).toHaveLength(1);
    expect(await new MultimodalRetriever({ vectorStore: store, k: 50 }).invoke("blue")).toHaveLength(IMAGES.length);
  });

  it("combines terms as the normalised weighted sum of unit vectors", async () => {
    const { store } = await makeStore();
    const retriever = new MultimodalRetriever({ vectorStore: store, k: 1 });
    // red circle - red + blue = (1,0,1)/√2 - (1,0,0) + (0,1,0) → blue circle direction (mostly)
    const [best] = await retriever.invoke("red circle - red + blue");
    expect(best.metadata.source).toBe("img:blue-circle.png");
    const expected = unit([1 / Math.SQRT2 - 1, 1, 1 / Math.SQRT2]);
    const blueCircle = TABLE["img:blue-circle"];
    expect(best.metadata.score).toBeCloseTo(
      expected.reduce((s, x, i) => s + x * blueCircle[i], 0),
      6,
    );
    // The object forms give the same vector.
    for (const query of [
      { positive: ["red circle", "blue"], negative: ["red"] },
      {
        terms: [
          { text: "red circle", weight: 1 },
          { text: "red", weight: -1 },
          { text: "blue", weight: 1 },
        ],
      },
      {
        positive: [{ text: "red circle" }],
        terms: [{ text: "blue", weight: 1 }],
        negative: [{ text: "red", weight: 1 }],
      },
    ]) {
      const [doc] = await retriever.invoke(query);
      expect(doc.metadata.source).toBe("img:blue-circle.png");
      expect(doc.metadata.score).toBeCloseTo(best.metadata.score, 6);
    }
  });

  it("weights terms", async () => {
    const { store } = await makeStore();
    const retriever = new MultimodalRetriever({ vectorStore: store, k: 1 });
    expect(sources(await retriever.invoke("red + 0.2*blue"))).toEqual(["img:red.png"]);
    expect(sources(await retriever.invoke("0.2*red + blue"))).toEqual(["img:blue.png"]);
    expect(sources(await retriever.invoke("red + blue"))).toEqual(["img:purple.png"]);
  });

  it("embeds texts in one batch and images in one batch", async () => {
    const { store, embeddings } = await makeStore();
    await new MultimodalRetriever({ vectorStore: store }).invoke("image:img:red + red + blue - image:img:blue");
    expect(embeddings.calls).toEqual({ texts: [["red", "blue"]], images: 1 });
  });

  it("rejects queries whose terms cancel out", async () => {
    const { store } = await makeStore();
    await expect(new MultimodalRetriever({ vectorStore: store }).invoke("red - red")).rejects.toThrow(
      new QueryError("The query terms cancel out: their weighted sum is the zero vector, which matches nothing"),
    );
  });

  it("rejects malformed queries and unreadable query images with the package's errors", async () => {
    const { store } = await makeStore();
    const retriever = new MultimodalRetriever({ vectorStore: store });
    await expect(retriever.invoke("red +")).rejects.toThrow(QueryError);
    await expect(retriever.invoke({ image: "missing.png" })).rejects.toThrow(ImageInputError);
    await expect(retriever.invoke("image:missing.png + red")).rejects.toThrow(
      "Cannot embed image missing.png: no such file",
    );
  });

  describe("excludeQueryImage", () => {
    it("drops results with the query image's content hash and still returns k (default on)", async () => {
      const { store } = await makeStore();
      const docs = await new MultimodalRetriever({ vectorStore: store, k: 3 }).invoke({ image: "img:red-circle" });
      expect(sources(docs)).toEqual(["img:red-circle-2.png", "img:red.png", "img:purple.png"]);
    });

    it("asks the store again when the query image is stored many times", async () => {
      // The same image indexed under five names: all five share one content hash.
      const { store } = await makeStore([
        ...Array(5).fill("img:red-circle"),
        "img:red-circle-2",
        "img:red",
        "img:blue",
      ]);
      const docs = await new MultimodalRetriever({ vectorStore: store, k: 2 }).invoke({
        image: Buffer.from("img:red-circle"),
      });
      expect(sources(docs)).toEqual(["img:red-circle-2.png", "img:red.png"]);
    });

    it("excludes every image term of an arithmetic query", async () => {
      const { store } = await makeStore();
      const docs = await new MultimodalRetriever({ vectorStore: store, k: 10 }).invoke(
        "image:img:red-circle + image:img:blue",
      );
      expect(sources(docs)).not.toContain("img:red-circle.png");
      expect(sources(docs)).not.toContain("img:blue.png");
      expect(docs).toHaveLength(IMAGES.length - 2);
    });

    it("keeps the query image when false", async () => {
      const { store } = await makeStore();
      const docs = await new MultimodalRetriever({ vectorStore: store, k: 1, excludeQueryImage: false }).invoke({
        image: "img:red-circle",
      });
      expect(sources(docs)).toEqual(["img:red-circle.png"]);
      expect(docs[0].metadata.score).toBeCloseTo(1, 6);
    });

    it("does not apply to text queries", async () => {
      const { store } = await makeStore();
      const docs = await new MultimodalRetriever({ vectorStore: store, k: 1 }).invoke("red circle");
      expect(sources(docs)).toEqual(["img:red-circle.png"]);
    });
  });

  it("applies scoreThreshold (cosine, inclusive)", async () => {
    const { store } = await makeStore();
    const docs = await new MultimodalRetriever({ vectorStore: store, k: 10, scoreThreshold: 0.5 }).invoke("red");
    // cos(red, ·): red 1, purple .707, red-circle .707, red-circle-2 ~.706; blue-circle and blue 0.
    expect(sources(docs).sort()).toEqual([
      "img:purple.png",
      "img:red-circle-2.png",
      "img:red-circle.png",
      "img:red.png",
    ]);
    expect(docs.every((d) => d.metadata.score >= 0.5)).toBe(true);
    expect(await new MultimodalRetriever({ vectorStore: store, scoreThreshold: 1.01 }).invoke("red")).toEqual([]);
  });

  it("passes filter to the store", async () => {
    const { store } = await makeStore();
    const filter = (doc: Document) => doc.metadata.index % 2 === 1;
    const docs = await new MultimodalRetriever({ vectorStore: store, k: 10, filter }).invoke("red");
    expect(docs.map((d) => d.metadata.index).sort()).toEqual([1, 3, 5]);
  });

  describe("searchType mmr", () => {
    it("picks diverse results where similarity picks near-duplicates", async () => {
      const { store } = await makeStore();
      const similar = await new MultimodalRetriever({ vectorStore: store, k: 2 }).invoke("red circle");
      expect(sources(similar)).toEqual(["img:red-circle.png", "img:red-circle-2.png"]);
      const mmr = await new MultimodalRetriever({ vectorStore: store, k: 2, searchType: "mmr", lambda: 0.5 }).invoke(
        "red circle",
      );
      expect(sources(mmr)[0]).toBe("img:red-circle.png");
      expect(sources(mmr)[1]).not.toBe("img:red-circle-2.png");
      // Scores stay the cosine to the query.
      expect(mmr[1].metadata.score).toBeLessThan(similar[1].metadata.score);
    });

    it("lambda 1 is pure relevance", async () => {
      const { store } = await makeStore();
      const mmr = await new MultimodalRetriever({ vectorStore: store, k: 2, searchType: "mmr", lambda: 1 }).invoke(
        "red circle",
      );
      expect(sources(mmr)).toEqual(["img:red-circle.png", "img:red-circle-2.png"]);
    });

    it("chooses only among the fetchK nearest", async () => {
      const { store } = await makeStore();
      const mmr = await new MultimodalRetriever({
        vectorStore: store,
        k: 2,
        fetchK: 2,
        searchType: "mmr",
        lambda: 0,
      }).invoke("red circle");
      expect(sources(mmr).sort()).toEqual(["img:red-circle-2.png", "img:red-circle.png"]);
    });

    it("finds MemoryVectorStore vectors without document ids", async () => {
      const { store } = await makeStore(IMAGES, { withIds: false });
      const mmr = await new MultimodalRetriever({ vectorStore: store, k: 2, searchType: "mmr" }).invoke("red circle");
      expect(mmr).toHaveLength(2);
      expect(sources(mmr)[1]).not.toBe("img:red-circle-2.png");
    });

    it("uses getVectorsById when the store has it", async () => {
      const { store } = await makeStore();
      const asked: string[][] = [];
      const byId = new Map(store.memoryVectors.map((m) => [m.id!, m.embedding]));
      const lookupStore = Object.assign(store, {
        memoryVectors: undefined as never,
        async getVectorsById(ids: string[]) {
          asked.push(ids);
          return ids.map((id) => byId.get(id));
        },
      });
      // MemoryVectorStore searches memoryVectors, so search from a copy of them.
      const rows = [...byId.entries()];
      lookupStore.similaritySearchVectorWithScore = async (q: number[], k: number) =>
        rows
          .map(
            ([id, v]) =>
              [
                new Document({ pageContent: id, metadata: { source: id }, id }),
                v.reduce((s, x, i) => s + x * q[i], 0),
              ] as [Document, number],
          )
          .sort((a, b) => b[1] - a[1])
          .slice(0, k);
      const mmr = await new MultimodalRetriever({
        vectorStore: lookupStore,
        k: 2,
        fetchK: 4,
        searchType: "mmr",
      }).invoke("red circle");
      expect(mmr).toHaveLength(2);
      expect(asked).toHaveLength(1);
      expect(asked[0]).toHaveLength(4);
    });

    it("is refused at construction for a store without a vector lookup", async () => {
      const { store } = await makeStore();
      const bare = {
        embeddings: store.embeddings,
        similaritySearchVectorWithScore: store.similaritySearchVectorWithScore.bind(store),
      };
      expect(() => new MultimodalRetriever({ vectorStore: bare as never, searchType: "mmr" })).toThrow(
        /searchType "mmr" needs the stored vectors of the candidates: use a store with getVectorsById\(ids: string\[\]\)/,
      );
      expect(() => new MultimodalRetriever({ vectorStore: bare as never })).not.toThrow();
    });
  });

  describe("includeImageData", () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]);

    beforeAll(async () => {
      ({ dir, cleanup } = await tempDir());
      await writeFile(join(dir, "a.png"), png);
      await writeFile(join(dir, "b.bin"), jpeg);
      await writeFile(join(dir, "c.txt"), "hello");
    });
    afterAll(() => cleanup());

    async function storeWithSources(srcs: (string | undefined)[]) {
      const store = new MemoryVectorStore(new TableEmbeddings(TABLE) as never);
      await store.addVectors(
        srcs.map((_, i) => unit([1, i * 0.1, 0])),
        srcs.map((source) => new Document({ pageContent: source ?? "image:x", metadata: source ? { source } : {} })),
      );
      return store;
    }

    it("attaches data URIs with the sniffed mime type, or says why not", async () => {
      const store = await storeWithSources([
        join(dir, "a.png"),
        join(dir, "b.bin"),
        join(dir, "c.txt"),
        join(dir, "gone.png"),
        undefined,
      ]);
      const docs = await new MultimodalRetriever({ vectorStore: store, k: 5, includeImageData: true }).invoke("red");
      const bySource = new Map(docs.map((d) => [d.metadata.source, d.metadata]));
      expect(bySource.get(join(dir, "a.png"))!.imageDataUri).toBe(`data:image/png;base64,${png.toString("base64")}`);
      expect(bySource.get(join(dir, "b.bin"))!.imageDataUri).toBe(`data:image/jpeg;base64,${jpeg.toString("base64")}`);
      expect(bySource.get(join(dir, "c.txt"))!.imageDataError).toBe("unrecognised image format: no data URI attached");
      expect(bySource.get(join(dir, "gone.png"))!.imageDataError).toMatch(/gone\.png: no such file/);
      expect(bySource.get(undefined)!.imageDataError).toBe("no source path or URL to read the image from");
      expect(store.memoryVectors.every((m) => !("imageDataUri" in m.metadata))).toBe(true);
    });

    it("is off by default and honours imageDataMaxBytes", async () => {
      const store = await storeWithSources([join(dir, "a.png")]);
      const [plain] = await new MultimodalRetriever({ vectorStore: store }).invoke("red");
      expect(plain.metadata).not.toHaveProperty("imageDataUri");
      expect(plain.metadata).not.toHaveProperty("imageDataError");
      const [small] = await new MultimodalRetriever({
        vectorStore: store,
        includeImageData: true,
        imageDataMaxBytes: 8,
      }).invoke("red");
      expect(small.metadata.imageDataError).toBe(`image is ${png.length} bytes, more than imageDataMaxBytes (8)`);
    });
  });

  it("withSearchOptions copies the retriever with some options replaced", async () => {
    const { store } = await makeStore();
    const base = new MultimodalRetriever({ vectorStore: store, k: 1, scoreThreshold: 0.1, tags: ["t"] });
    const wide = base.withSearchOptions({ k: 3 });
    expect([wide.k, wide.scoreThreshold, wide.vectorStore, wide.tags]).toEqual([3, 0.1, store, ["t"]]);
    expect(base.k).toBe(1);
    expect(await wide.invoke("red")).toHaveLength(3);
  });

  it("reports a short description of the query to callbacks, never image bytes", async () => {
    const { store } = await makeStore();
    const seen: unknown[] = [];
    const handler = { handleRetrieverStart: (_r: unknown, query: unknown) => void seen.push(query) };
    const retriever = new MultimodalRetriever({ vectorStore: store, k: 1 });
    await retriever.invoke({ positive: [{ image: Buffer.from("img:red") }, "blue"] }, { callbacks: [handler] });
    await retriever.invoke("red circle - red", { callbacks: [handler] });
    expect(seen).toEqual(["image:<bytes, 7> + blue", "red circle - red"]);
  });

  describe("validation", () => {
    it("needs a store whose embeddings embed images", async () => {
      const store = new MemoryVectorStore(new FakeEmbeddings());
      expect(() => new MultimodalRetriever({ vectorStore: store })).toThrow(
        /needs a vector store whose embeddings is an ImageEmbeddings.*this store's embeddings is FakeEmbeddings, which has no embedImagesSettled\(\)/,
      );
      expect(() => new MultimodalRetriever({ vectorStore: undefined as never })).toThrow(
        "Expected a LangChain vector store for vectorStore but received undefined",
      );
    });

    it.each([
      [{ k: 0 }, "Expected positive integer for k but received 0 of type number"],
      [{ k: 2.5 }, "Expected positive integer for k but received 2.5"],
      [{ fetchK: -1 }, "Expected positive integer for fetchK but received -1"],
      [{ scoreThreshold: Number.NaN }, "Expected a finite number for scoreThreshold but received NaN of type number"],
      [{ searchType: "knn" }, 'Expected "similarity" or "mmr" for searchType but received "knn"'],
      [{ lambda: 1.5 }, "Expected a number from 0 to 1 for lambda but received 1.5 of type number"],
      [{ searchType: "mmr", k: 30 }, 'Expected fetchK >= k for searchType "mmr" but received fetchK 20 and k 30'],
      [{ excludeQueryImage: "no" }, "Expected a boolean for excludeQueryImage but received no of type string"],
      [{ includeImageData: 1 }, "Expected a boolean for includeImageData but received 1 of type number"],
      [{ imageDataMaxBytes: 0 }, "Expected positive integer for imageDataMaxBytes but received 0"],
    ])("rejects %j", async (options, message) => {
      const { store } = await makeStore();
      expect(() => new MultimodalRetriever({ vectorStore: store, ...(options as object) })).toThrow(message);
    });
  });
});
