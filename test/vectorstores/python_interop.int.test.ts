/** Opening indexes that LangChain Python's FAISS.save_local wrote (fixture made by scripts/fixtures/make_python_faiss_index.py). */
import { readFileSync } from "node:fs";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, ImageFaissStore, cosineSimilarity } from "../../src/index.js";
import { loadFaiss } from "../../src/utils/imports.js";
import { ROOT, TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { noEmbeddings } from "../helpers/vectors.js";

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

  it("reads plain (non-pydantic) Documents, pathlib paths as strings, and ids in index order", async () => {
    // Made by pickle.dumps((InMemoryDocstore({"a": Document("photo a", {"source": PurePosixPath("/data/a.jpg")}),
    // "b": Document("photo b", {"n": 2})}), {0: "b", 1: "a"}), protocol=4), with plain classes named like
    // LangChain's (langchain_community.docstore.in_memory, langchain_core.documents.base).
    const pickle = Buffer.from(
      "80049521010000000000008c266c616e67636861696e5f636f6d6d756e6974792e646f6373746f72652e696e5f6d656d6f7279948c10496e4d656d6f7279446f6373746f72659493942981947d948c055f64696374947d94288c0161948c1d6c616e67636861696e5f636f72652e646f63756d656e74732e62617365948c08446f63756d656e749493942981947d94288c0c706167655f636f6e74656e74948c0770686f746f2061948c086d65746164617461947d948c06736f75726365948c07706174686c6962948c0d50757265506f736978506174689493948c012f948c0464617461948c05612e6a706794879452947375628c016294680a2981947d9428680d8c0770686f746f206294680f7d948c016e944b027375627573627d94284b00681a4b0168077586942e",
      "hex",
    );
    const faiss = await loadFaiss();
    const index = new faiss.IndexFlatL2(2);
    index.add([1, 0, 0, 1]);
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "index.faiss"), index.toBuffer());
      await writeFile(join(dir, "index.pkl"), pickle);
      const store = await ImageFaissStore.loadFromPython(dir, noEmbeddings);
      expect(store.metric).toBe("l2");
      expect(
        store.entries().map(({ id, document, vector }) => [id, document.pageContent, document.metadata, [...vector]]),
      ).toEqual([
        ["b", "photo b", { n: 2 }, [1, 0]],
        ["a", "photo a", { source: "/data/a.jpg" }, [0, 1]],
      ]);
    } finally {
      await cleanup();
    }
  });
});
