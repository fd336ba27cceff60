/**
 * addImagesToStore into LangChain's MemoryVectorStore and community's FaissStore with the
 * real tiny-clip model, and MultimodalRetriever over both: the Documents written, per-item
 * failures, ids, ranking, exclude-self, and images taken from a real HumanMessage.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { MemoryVectorStore } from "@langchain/classic/vectorstores/memory";
import type { DocumentInterface } from "@langchain/core/documents";
import { HumanMessage } from "@langchain/core/messages";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ImageEmbeddings,
  ImageInputError,
  MultimodalRetriever,
  addImagesToStore,
  imageBlocksOf,
  uuidFromContentHash,
} from "../../src/index.js";
import { ImageFaissStore } from "../../src/vectorstores/image_faiss_store.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { type GalleryImage, writeGallery } from "../retrievers/gallery.js";

const PER_CLASS = 2;
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const labels = (docs: DocumentInterface[]) => docs.map((d) => d.metadata.label as string);

const stores = {
  MemoryVectorStore: (embeddings: ImageEmbeddings) => new MemoryVectorStore(embeddings),
  FaissStore: (embeddings: ImageEmbeddings) => new FaissStore(embeddings, {}),
} satisfies Record<string, (e: ImageEmbeddings) => VectorStoreInterface>;

describe("addImagesToStore", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  let cleanup: () => Promise<void>;
  let dir: string;
  let gallery: GalleryImage[];
  /** Each gallery file's SHA-256, which is its default id. */
  let hashes: string[];

  beforeAll(async () => {
    const tmp = await tempDir("lie-anystore-");
    ({ dir, cleanup } = tmp);
    gallery = await writeGallery(dir, PER_CLASS, 90_000);
    hashes = await Promise.all(gallery.map(async (g) => sha256(await readFile(g.path))));
  });
  afterAll(async () => {
    await cleanup?.();
    await embeddings.dispose();
  });

  describe.each(Object.keys(stores) as (keyof typeof stores)[])("into %s", (name) => {
    let store: VectorStoreInterface;
    let retriever: MultimodalRetriever;
    let missing: string;

    beforeAll(async () => {
      store = stores[name](embeddings);
      missing = join(dir, "missing.png");
      const inputs = [...gallery.map((g) => g.path), missing, Buffer.from("not an image")];
      const metadatas = [...gallery.map(({ label, colour, shape }) => ({ label, colour, shape })), {}, {}];
      const { ids, failures } = await addImagesToStore(store, inputs, { metadatas });

      // The good images are stored under their content hashes; the bad ones are named.
      expect(ids).toEqual([...hashes, undefined, undefined]);
      expect(failures.map((f) => [f.index, f.code, f.input])).toEqual([
        [gallery.length, "NOT_FOUND", missing],
        [gallery.length + 1, "UNSUPPORTED_FORMAT", `inputs[${gallery.length + 1}] (Buffer, 12 bytes)`],
      ]);
      expect(failures.every((f) => f instanceof ImageInputError)).toBe(true);
      retriever = new MultimodalRetriever({ vectorStore: store, k: 3 });
    });

    it("writes Documents with source, contentHash, size, format and the caller's metadata", async () => {
      const [doc] = await store.similaritySearchVectorWithScore(await embeddings.embedImage(gallery[5].path), 1);
      expect(doc[0].pageContent).toBe(gallery[5].path);
      expect(doc[0].metadata).toEqual({
        label: gallery[5].label,
        colour: gallery[5].colour,
        shape: gallery[5].shape,
        modality: "image",
        source: gallery[5].path,
        contentHash: hashes[5],
        width: 256,
        height: 256,
        format: "png",
      });
    });

    it("text to image: the top results for each class name are of that class", async () => {
      const wrong: string[] = [];
      for (const label of ["red circle", "green square", "blue triangle", "yellow star", "purple square"]) {
        const docs = await retriever.invoke(label);
        expect(docs).toHaveLength(3);
        if (docs[0].metadata.label !== label || labels(docs.slice(0, PER_CLASS)).some((l) => l !== label)) {
          wrong.push(`${label}: ${labels(docs).join(", ")}`);
        }
        // Scores are cosine similarities, best first, whatever the store reports.
        const scores = docs.map((d) => d.metadata.score as number);
        expect([...scores].sort((a, b) => b - a)).toEqual(scores);
        expect(scores[0]).toBeGreaterThan(0);
        expect(scores[0]).toBeLessThanOrEqual(1);
      }
      expect(wrong).toEqual([]);
    });

    it("image to image leaves the query image out and finds its class-mate first", async () => {
      for (const i of [0, 9, 30, 47]) {
        const docs = await retriever.invoke({ image: gallery[i].path });
        expect(docs).toHaveLength(3);
        expect(docs.map((d) => d.metadata.source)).not.toContain(gallery[i].path);
        expect(docs[0].metadata.label).toBe(gallery[i].label);
      }
      const kept = await retriever.withSearchOptions({ excludeQueryImage: false }).invoke({ image: gallery[9].path });
      expect(kept[0].metadata.source).toBe(gallery[9].path);
      expect(kept[0].metadata.score).toBeCloseTo(1, 4);
    });

    it("searches with an image block taken from a real HumanMessage, leaving that image out", async () => {
      const target = gallery[14];
      const message = new HumanMessage({
        contentBlocks: [
          { type: "text", text: "Find more like this one" },
          { type: "image", mimeType: "image/png", data: (await readFile(target.path)).toString("base64") },
        ],
      });
      const [block] = imageBlocksOf(message);
      expect(block).toMatchObject({ type: "image", mimeType: "image/png" });
      const docs = await retriever.invoke(block);
      expect(docs.map((d) => d.metadata.source)).not.toContain(target.path);
      expect(docs[0].metadata.label).toBe(target.label);
    });
  });

  it("scores from community's FaissStore (squared L2) become the same cosine similarities as MemoryVectorStore's", async () => {
    const memory = new MemoryVectorStore(embeddings);
    const faiss = new FaissStore(embeddings, {});
    const paths = gallery.slice(0, 12).map((g) => g.path);
    await addImagesToStore(memory, paths);
    await addImagesToStore(faiss, paths);
    const query = { positive: ["green circle"], negative: ["red"] };
    const fromMemory = await new MultimodalRetriever({ vectorStore: memory, k: 5 }).invoke(query);
    const faissRetriever = new MultimodalRetriever({ vectorStore: faiss, k: 5 });
    expect(faissRetriever.scoreKind).toBe("squaredL2");
    const fromFaiss = await faissRetriever.invoke(query);
    expect(fromFaiss.map((d) => d.id)).toEqual(fromMemory.map((d) => d.id));
    fromFaiss.forEach((d, i) => expect(d.metadata.score).toBeCloseTo(fromMemory[i].metadata.score, 5));
  });

  it("writes into ImageFaissStore exactly what its addImages writes", async () => {
    const inputs = [gallery[0].path, await readFile(gallery[1].path), join(dir, "nope.png")];
    const metadatas = [{ album: "a" }, { album: "b" }, {}];
    const viaFunction = new ImageFaissStore(embeddings);
    const viaMethod = new ImageFaissStore(embeddings);
    const a = await addImagesToStore(viaFunction, inputs, { metadatas });
    const b = await viaMethod.addImages(inputs, { metadatas });
    expect(a.ids).toEqual(b.ids);
    expect(a.failures.map((f) => f.message)).toEqual(b.failures.map((f) => f.message));
    const entries = (store: ImageFaissStore) =>
      store.entries().map(({ id, document, vector }) => ({ id, document, vector: Array.from(vector) }));
    expect(entries(viaFunction)).toEqual(entries(viaMethod));
    expect(entries(viaFunction).map((e) => e.document.pageContent)).toEqual([gallery[0].path, `image:${hashes[1]}`]);
  });

  it('idFormat "uuid" gives deterministic UUIDs made from the content hash', async () => {
    const store = new MemoryVectorStore(embeddings);
    const paths = [gallery[0].path, gallery[1].path];
    const { ids } = await addImagesToStore(store, paths, { idFormat: "uuid" });
    expect(ids).toEqual([uuidFromContentHash(hashes[0]), uuidFromContentHash(hashes[1])]);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ids[0]!.replace(/-/g, "").slice(0, 12)).toBe(hashes[0].slice(0, 12));
    expect(store.memoryVectors.map((m) => m.id)).toEqual(ids);
  });

  it("takes the caller's ids, and the ids a store chooses itself", async () => {
    const memory = new MemoryVectorStore(embeddings);
    const mine = await addImagesToStore(memory, [gallery[0].path, join(dir, "nope.png")], { ids: ["a", "b"] });
    expect(mine.ids).toEqual(["a", undefined]);
    expect(memory.memoryVectors.map((m) => m.id)).toEqual(["a"]);

    // A store that ignores the ids it is given and returns its own.
    const renaming = new MemoryVectorStore(embeddings);
    const memoryAdd = renaming.addVectors.bind(renaming);
    Object.assign(renaming, {
      addVectors: async (vectors: number[][], documents: DocumentInterface[]) => {
        await memoryAdd(vectors, documents);
        return documents.map((_, i) => `own-${i}`);
      },
    });
    const own = await addImagesToStore(renaming, [join(dir, "nope.png"), gallery[2].path, gallery[3].path]);
    expect(own.ids).toEqual([undefined, "own-0", "own-1"]);
  });

  it("failFast rejects with the first bad input and adds nothing", async () => {
    const store = new MemoryVectorStore(embeddings);
    const missing = join(dir, "gone.png");
    await expect(addImagesToStore(store, [gallery[0].path, missing], { failFast: true })).rejects.toMatchObject({
      name: "ImageInputError",
      input: missing,
      code: "NOT_FOUND",
    });
    expect(store.memoryVectors).toEqual([]);
  });

  it("refuses a store without ImageEmbeddings, and options that do not fit the inputs", async () => {
    const textStore = new MemoryVectorStore(new FakeEmbeddings());
    await expect(addImagesToStore(textStore, [gallery[0].path])).rejects.toThrow(
      /addImagesToStore needs a vector store whose embeddings is an ImageEmbeddings.*FakeEmbeddings/,
    );
    await expect(addImagesToStore(null as never, [])).rejects.toThrow(TypeError);
    const store = new MemoryVectorStore(embeddings);
    await expect(addImagesToStore(store, [gallery[0].path], { ids: ["a", "b"] })).rejects.toThrow(
      "ids has 2 entries but there are 1 images",
    );
    await expect(addImagesToStore(store, [gallery[0].path], { metadatas: [{}, {}] })).rejects.toThrow(
      "metadatas has 2 entries but there are 1 images",
    );
    await expect(addImagesToStore(store, [gallery[0].path], { idFormat: "uuid4" as never })).rejects.toThrow(
      /Expected "contentHash" or "uuid" for idFormat/,
    );
    expect(store.memoryVectors).toEqual([]);
  });
});
