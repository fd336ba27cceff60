/** Opening indexes that LangChain Python's FAISS.save_local wrote (fixture made by scripts/fixtures/make_python_faiss_index.py). */
import { readFileSync } from "node:fs";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, ImageFaissStore, cosineSimilarity } from "../../src/index.js";
import { ROOT, TINY_CLIP, tempDir } from "../helpers/fixtures.js";

const reference = JSON.parse(readFileSync(join(ROOT, "test/fixtures/reference/tiny-clip.json"), "utf8")) as {
  images: { file: string; class: string; embedding: number[] }[];
};
const FIXTURE = join(ROOT, "test/fixtures/python-faiss");

describe("ImageFaissStore.loadFromPython", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  afterAll(() => embeddings.dispose());

  for (const [kind, metric] of [
    ["l2", "l2"],
    ["ip", "cosine"],
  ] as const) {
    it(`opens a ${kind === "l2" ? "Euclidean (IndexFlatL2)" : "MAX_INNER_PRODUCT (IndexFlatIP)"} index with its documents and vectors`, async () => {
      const store = await ImageFaissStore.loadFromPython(join(FIXTURE, kind), embeddings);
      expect(store.metric).toBe(metric);
      expect(store.size).toBe(reference.images.length);
      // Each stored vector is the reference image's (normalised by Python), under Python's id and metadata.
      for (const [i, image] of reference.images.entries()) {
        const [vector] = await store.getVectorsById([`img-${i}`]);
        expect(cosineSimilarity(vector!, image.embedding)).toBeGreaterThan(0.99999);
      }
      // An image of the fixture set, embedded here, finds its own entry first.
      const first = reference.images[0];
      const query = await embeddings.embedImage(join(ROOT, "test/fixtures/images", first.file));
      const [[doc, score]] = await store.similaritySearchVectorWithScore(query, 1);
      expect(doc.id).toBe("img-0");
      expect(doc.metadata).toEqual({ source: `images/${first.file}`, class: first.class });
      expect(doc.pageContent).toBe(`images/${first.file}`);
      expect(score).toBeGreaterThan(0.99);
    });
  }

  it("keeps working as an ImageFaissStore: filter, delete, save and load", async () => {
    const store = await ImageFaissStore.loadFromPython(join(FIXTURE, "ip"), embeddings);
    const own = reference.images[1].class;
    const filtered = await store.similaritySearch("anything", 3, { class: own });
    expect(filtered.every((d) => d.metadata.class === own)).toBe(true);
    await store.delete({ ids: ["img-0"] });
    const { dir, cleanup } = await tempDir();
    try {
      await store.save(dir);
      const again = await ImageFaissStore.load(dir, embeddings);
      expect(again.size).toBe(reference.images.length - 1);
    } finally {
      await cleanup();
    }
  });

  it("names index.pkl and what it holds when it is not LangChain's (docstore, ids) pair", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await copyFile(join(FIXTURE, "l2", "index.faiss"), join(dir, "index.faiss"));
      const pickle = join(dir, "index.pkl");
      const load = () => ImageFaissStore.loadFromPython(dir, embeddings);
      await writeFile(pickle, "not a pickle");
      await expect(load()).rejects.toThrow(`${pickle} is not a readable Python pickle`);
      // pickle.dumps({"a": 1}, protocol=2): a valid pickle, but a dict.
      await writeFile(pickle, Buffer.from("80027d710058010000006171014b01732e", "hex"));
      await expect(load()).rejects.toThrow(
        `${pickle} is not what LangChain Python's FAISS.save_local writes: it holds an object, not a pair`,
      );
      // pickle.dumps(({"x": 1}, {0: "a"}), protocol=2): a pair, but no InMemoryDocstore in it.
      await writeFile(
        pickle,
        Buffer.from("80027d710058010000007871014b01737d71024b005801000000617103738671042e", "hex"),
      );
      await expect(load()).rejects.toThrow(/index\.pkl is not what .* its docstore \(an object\) has no _dict/);
    } finally {
      await cleanup();
    }
  });
});
