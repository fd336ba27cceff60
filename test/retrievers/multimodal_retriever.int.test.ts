/**
 * MultimodalRetriever with the real tiny-clip model over a gallery of images drawn at
 * test time (SVG through sharp, a generator the model never saw in training):
 * ranking quality, query arithmetic, every option, and LCEL.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, cosineSimilarity } from "../../src/index.js";
import { findDuplicates } from "../../src/retrievers/find_duplicates.js";
import { ImageFaissStore } from "../../src/vectorstores/image_faiss_store.js";
import { MultimodalRetriever } from "../../src/retrievers/multimodal_retriever.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { CLASSES } from "../helpers/shapes.js";
import { type GalleryImage, type IndexedGallery, storeOf, writeGallery } from "./gallery.js";

const PER_CLASS = 10;
const labelsOf = (docs: Document[]) => docs.map((d) => d.metadata.label as string);
const precision = (docs: Document[], label: string) => labelsOf(docs).filter((l) => l === label).length / docs.length;
const meanPairwise = (vectors: number[][]) => {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < vectors.length; i++) {
    for (let j = i + 1; j < vectors.length; j++) {
      sum += cosineSimilarity(vectors[i], vectors[j]);
      pairs++;
    }
  }
  return sum / pairs;
};

describe("MultimodalRetriever with tiny-clip", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  let cleanup: () => Promise<void>;
  let gallery: GalleryImage[];
  /** The clean gallery: PER_CLASS images per class. */
  let main: IndexedGallery;
  /** The gallery plus planted near-duplicates of three of its images. */
  let withCopies: IndexedGallery;
  /** For each planted group: the original's gallery index and the copies' paths. */
  let planted: { original: number; copies: string[] }[];
  const measured = { textPrecision: new Map<string, number>(), imagePrecision: [] as number[] };

  beforeAll(async () => {
    const tmp = await tempDir("lie-retriever-");
    cleanup = tmp.cleanup;
    gallery = await writeGallery(tmp.dir, PER_CLASS, 50_000);
    // Near-duplicates: the same picture re-encoded as JPEG, and resized.
    planted = [];
    for (const original of [0, 5 * PER_CLASS + 3, 17 * PER_CLASS + 6]) {
      const png = await readFile(gallery[original].path);
      const name = (suffix: string) => join(tmp.dir, `copy-${original}-${suffix}`);
      const copies: [string, Buffer][] = [
        [name("q80.jpg"), await sharp(png).jpeg({ quality: 80 }).toBuffer()],
        [name("small.png"), await sharp(png).resize(180, 180).png().toBuffer()],
        [name("large.jpg"), await sharp(png).resize(320, 320).jpeg({ quality: 90 }).toBuffer()],
      ];
      await Promise.all(copies.map(([path, bytes]) => writeFile(path, bytes)));
      planted.push({ original, copies: copies.map(([path]) => path) });
    }
    const copyImages = planted.flatMap((p) => p.copies.map((path) => ({ ...gallery[p.original], path })));
    const all = [...gallery, ...copyImages];
    const results = await embeddings.embedImagesSettled(all.map((i) => i.path));
    const docs = results.map((r, i) => {
      if (r.error) throw r.error;
      const { source, contentHash, width, height } = r.image;
      const { label, colour, shape } = all[i];
      return new Document({
        pageContent: source!,
        metadata: { source, contentHash, width, height, label, colour, shape },
        id: `img-${i}`,
      });
    });
    const vectors = results.map((r) => r.embedding!);
    main = await storeOf(embeddings, vectors.slice(0, gallery.length), docs.slice(0, gallery.length));
    withCopies = await storeOf(embeddings, vectors, docs);
  });

  afterAll(async () => {
    const text = [...measured.textPrecision.values()];
    if (text.length > 0)
      console.log(
        `text-to-image precision@5: min ${Math.min(...text)}, mean ${(text.reduce((a, b) => a + b, 0) / text.length).toFixed(3)}`,
      );
    const image = measured.imagePrecision;
    if (image.length > 0)
      console.log(
        `image-to-image precision@5: min ${Math.min(...image)}, mean ${(image.reduce((a, b) => a + b, 0) / image.length).toFixed(3)} over ${image.length} queries`,
      );
    await cleanup?.();
    await embeddings.dispose();
  });

  describe("ranking quality", () => {
    it.each(CLASSES.map((c) => c.label))(
      "text to image: at least 0.9 of the top 5 for %j are of its class",
      async (label) => {
        const docs = await new MultimodalRetriever({ vectorStore: main.store, k: 5 }).invoke(label);
        expect(docs).toHaveLength(5);
        measured.textPrecision.set(label, precision(docs, label));
        expect(labelsOf(docs).filter((l) => l !== label)).toEqual([]);
      },
    );

    it("image to image: for every query image, all of its top 5 (itself excluded) share its class", async () => {
      const retriever = new MultimodalRetriever({ vectorStore: main.store, k: 5 });
      const failures: string[] = [];
      // Two query images per class, each searched by its path.
      for (const [i, image] of gallery.entries()) {
        if (i % PER_CLASS >= 2) continue;
        const docs = await retriever.invoke({ image: image.path });
        const p = precision(docs, image.label);
        measured.imagePrecision.push(p);
        if (p < 0.9) failures.push(`${image.path}: ${labelsOf(docs).join(", ")}`);
      }
      expect(failures).toEqual([]);
    });
  });

  describe("query arithmetic", () => {
    const blueCircles = (docs: Document[]) => labelsOf(docs).filter((l) => l === "blue circle").length;

    it("'red circle - red + blue' finds blue circles where 'red circle' finds none", async () => {
      const retriever = new MultimodalRetriever({ vectorStore: main.store, k: 5 });
      const plain = await retriever.invoke("red circle");
      const moved = await retriever.invoke("red circle - red + blue");
      expect(blueCircles(plain)).toBe(0);
      expect(blueCircles(moved)).toBeGreaterThanOrEqual(4);
    });

    it("works from an image: a red circle photo - red + blue finds blue circles", async () => {
      const retriever = new MultimodalRetriever({ vectorStore: main.store, k: 5 });
      const redCircle = gallery.find((g) => g.label === "red circle")!.path;
      const plain = await retriever.invoke({ image: redCircle });
      expect(blueCircles(plain)).toBe(0);
      for (const query of [
        { positive: [{ image: redCircle }, "blue"], negative: ["red"] },
        `image:${redCircle} - red + blue`,
      ]) {
        expect(blueCircles(await retriever.invoke(query))).toBeGreaterThanOrEqual(4);
      }
    });

    it("weights move the result along the mix", async () => {
      const retriever = new MultimodalRetriever({ vectorStore: main.store, k: 5 });
      const colours = async (query: string) => (await retriever.invoke(query)).map((d) => d.metadata.colour);
      expect(await colours("red star + 0.1*blue star")).toEqual(Array(5).fill("red"));
      expect(await colours("0.1*red star + blue star")).toEqual(Array(5).fill("blue"));
    });
  });

  it("scoreThreshold drops results below it", async () => {
    const all = await new MultimodalRetriever({ vectorStore: main.store, k: 40 }).invoke("yellow square");
    const threshold = all[9].metadata.score as number;
    const kept = await new MultimodalRetriever({ vectorStore: main.store, k: 40, scoreThreshold: threshold }).invoke(
      "yellow square",
    );
    expect(kept.length).toBeGreaterThanOrEqual(10);
    expect(kept.length).toBeLessThan(all.length);
    expect(kept.every((d) => d.metadata.score >= threshold)).toBe(true);
    expect(kept.map((d) => d.id)).toEqual(all.filter((d) => d.metadata.score >= threshold).map((d) => d.id));
  });

  it("filter restricts the search to matching documents", async () => {
    const filter = (doc: Document) => doc.metadata.shape === "star";
    const docs = await new MultimodalRetriever({ vectorStore: main.store, k: 5, filter }).invoke("red circle");
    expect(docs.map((d) => d.metadata.shape)).toEqual(Array(5).fill("star"));
    expect(docs[0].metadata.colour).toBe("red");
  });

  describe("excludeQueryImage", () => {
    it("drops the query image itself, by content hash, whatever form it is given in", async () => {
      const { path } = gallery[PER_CLASS * 7 + 4];
      const retriever = new MultimodalRetriever({ vectorStore: main.store, k: 5 });
      for (const image of [path, await readFile(path)]) {
        const docs = await retriever.invoke({ image });
        expect(docs).toHaveLength(5);
        expect(docs.map((d) => d.metadata.source)).not.toContain(path);
      }
    });

    it("keeps it when false: it is then the best match", async () => {
      const { path } = gallery[PER_CLASS * 7 + 4];
      const docs = await new MultimodalRetriever({ vectorStore: main.store, k: 5, excludeQueryImage: false }).invoke({
        image: path,
      });
      expect(docs[0].metadata.source).toBe(path);
      expect(docs[0].metadata.score).toBeCloseTo(1, 5);
    });

    it("keeps re-encoded copies, which have other bytes", async () => {
      const { original, copies } = planted[0];
      const docs = await new MultimodalRetriever({ vectorStore: withCopies.store, k: 3 }).invoke({
        image: gallery[original].path,
      });
      expect(docs.map((d) => d.metadata.source).sort()).toEqual([...copies].sort());
    });
  });

  it("mmr returns more diverse results than similarity when the gallery holds near-duplicates", async () => {
    const { original, copies } = planted[1];
    const query = { image: gallery[original].path };
    const vectorsOf = (docs: Document[]) => docs.map((d) => withCopies.vectors[Number(d.id!.slice(4))]);
    const similar = await new MultimodalRetriever({ vectorStore: withCopies.store, k: 5 }).invoke(query);
    const mmr = await new MultimodalRetriever({
      vectorStore: withCopies.store,
      k: 5,
      searchType: "mmr",
      lambda: 0.5,
      fetchK: 20,
    }).invoke(query);
    const copiesIn = (docs: Document[]) => docs.filter((d) => copies.includes(d.metadata.source)).length;
    expect(copiesIn(similar)).toBe(3);
    expect(copiesIn(mmr)).toBeLessThanOrEqual(1);
    expect(meanPairwise(vectorsOf(mmr))).toBeLessThan(meanPairwise(vectorsOf(similar)) - 0.01);
    // Still relevant: the best match stays first, every result comes from the 20 nearest,
    // and the query's class is still there. (tiny-clip packs one class tightly: from lambda
    // 0.55 up MMR keeps the near-duplicates, and at 0.5 it swaps most of the class for variety.)
    expect(mmr[0].id).toBe(similar[0].id);
    const nearest20 = new Set(
      (await new MultimodalRetriever({ vectorStore: withCopies.store, k: 20 }).invoke(query)).map((d) => d.id),
    );
    for (const doc of mmr) expect(nearest20.has(doc.id)).toBe(true);
    expect(labelsOf(mmr).filter((l) => l === gallery[original].label).length).toBeGreaterThanOrEqual(2);
  });

  it("includeImageData attaches the image file as a data URI", async () => {
    const { copies } = planted[2];
    const docs = await new MultimodalRetriever({
      vectorStore: withCopies.store,
      k: 4,
      includeImageData: true,
      excludeQueryImage: false,
    }).invoke({
      image: copies[0],
    });
    for (const doc of docs) {
      const bytes = await readFile(doc.metadata.source);
      const mime = doc.metadata.source.endsWith(".jpg") ? "image/jpeg" : "image/png";
      expect(doc.metadata.imageDataUri).toBe(`data:${mime};base64,${bytes.toString("base64")}`);
    }
    expect(new Set(docs.map((d) => d.metadata.imageDataUri.split(";")[0]))).toEqual(
      new Set(["data:image/jpeg", "data:image/png"]),
    );
  });

  describe("in LCEL", () => {
    const formatDocs = (docs: Document[]) =>
      docs.map((d, i) => `${i + 1}. ${d.metadata.label} (${d.metadata.score.toFixed(2)})`).join("\n");

    it("retriever.pipe(formatDocs)", async () => {
      const chain = new MultimodalRetriever({ vectorStore: main.store, k: 3 }).pipe(formatDocs);
      const text = await chain.invoke("purple triangle");
      expect(text.split("\n")).toHaveLength(3);
      expect(text).toMatch(/^1\. purple triangle \(0\.\d\d\)/);
    });

    it("RunnableSequence with an image query and a prompt step", async () => {
      const chain = RunnableSequence.from([
        new MultimodalRetriever({ vectorStore: main.store, k: 2 }),
        RunnableLambda.from(formatDocs),
        (context: string) => `Answer from these images:\n${context}`,
      ]);
      const { path, label } = gallery[PER_CLASS * 12 + 1];
      const out = await chain.invoke({ image: path } as never);
      expect(out.split("\n")).toEqual([
        expect.stringContaining("Answer"),
        expect.stringContaining(label),
        expect.stringContaining(label),
      ]);
    });

    it("batch runs several queries", async () => {
      const results = await new MultimodalRetriever({ vectorStore: main.store, k: 1 }).batch([
        "green circle",
        "orange star",
      ]);
      expect(results.map((docs) => docs[0].metadata.label)).toEqual(["green circle", "orange star"]);
    });
  });

  describe("over ImageFaissStore", () => {
    let faiss: ImageFaissStore;
    beforeAll(async () => {
      faiss = new ImageFaissStore(embeddings);
      await faiss.addVectors(withCopies.vectors, withCopies.docs);
    });

    it("finds the same top 5 as MemoryVectorStore for every class, with the same cosine scores", async () => {
      for (const label of CLASSES.map((c) => c.label)) {
        const fromFaiss = await new MultimodalRetriever({ vectorStore: faiss, k: 5 }).invoke(label);
        const fromMemory = await new MultimodalRetriever({ vectorStore: withCopies.store, k: 5 }).invoke(label);
        expect(fromFaiss.map((d) => d.id).sort()).toEqual(fromMemory.map((d) => d.id).sort());
        fromFaiss.forEach((d, i) => expect(d.metadata.score).toBeCloseTo(fromMemory[i].metadata.score, 5));
      }
    });

    it("runs MMR with the store's getVectorsById, excludes the query image and takes object filters", async () => {
      const { original, copies } = planted[1];
      const query = { image: gallery[original].path };
      const options = { k: 5, searchType: "mmr" as const, fetchK: 20 };
      const fromFaiss = await new MultimodalRetriever({ vectorStore: faiss, ...options }).invoke(query);
      const fromMemory = await new MultimodalRetriever({ vectorStore: withCopies.store, ...options }).invoke(query);
      expect(fromFaiss.map((d) => d.id)).toEqual(fromMemory.map((d) => d.id));
      expect(fromFaiss.map((d) => d.metadata.source)).not.toContain(gallery[original].path);
      expect(fromFaiss.filter((d) => copies.includes(d.metadata.source)).length).toBeLessThanOrEqual(1);
      const stars = await new MultimodalRetriever({ vectorStore: faiss, k: 5, filter: { shape: "star" } }).invoke(
        "red circle",
      );
      expect(stars.map((d) => d.metadata.shape)).toEqual(Array(5).fill("star"));
    });
  });

  // Different drawings of one class score up to about 0.999 with tiny-clip; the planted
  // copies (re-encoded or resized) score above 0.9995.
  const DUPLICATE_THRESHOLD = 0.9995;
  it("findDuplicates groups exactly the planted copies with their originals", async () => {
    const items = withCopies.docs.map((doc, i) => ({
      id: doc.metadata.source as string,
      vector: withCopies.vectors[i],
    }));
    const groups = findDuplicates(items, DUPLICATE_THRESHOLD);
    const expected = planted.map((p) => [gallery[p.original].path, ...p.copies].sort());
    expect(groups.map((g) => g.items.map((i) => i.id)).sort()).toEqual(expected.sort());
  });
});
