/**
 * PgvectorImageStore against a real Postgres wire-protocol server (PGlite + pgvector in a
 * child process) with the real tiny-clip model over a generated gallery: upserts, paths,
 * filters, scores and ranking equal to ImageFaissStore's, the model record, HNSW and
 * ef_search, LangChain's PGVectorStore reading our rows, MultimodalRetriever on top, and
 * connection failures.
 */
import { createServer, type Server, type Socket } from "node:net";
import { Document } from "@langchain/core/documents";
import { PGVectorStore } from "@langchain/community/vectorstores/pgvector";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ImageEmbeddings,
  ImageFaissStore,
  MultimodalRetriever,
  PgvectorImageStore,
  StoreConnectionError,
  StoreModelMismatchError,
  addImagesToStore,
  imageDocuments,
  uuidFromContentHash,
} from "../../src/index.js";
import { ImageEncoderEmbeddings } from "../../src/encoders/image_encoder_embeddings.js";
import { searchIndex } from "../../src/indexer/search.js";
import { ROOT, TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { startPgliteServer, type PgliteServer } from "../helpers/pglite_server.js";
import { CLASSES } from "../helpers/shapes.js";
import { clusteredVectors } from "../helpers/vectors.js";
import { writeGallery, type GalleryImage } from "../retrievers/gallery.js";

const PER_CLASS = 10;
const labelsOf = (docs: Document[]) => docs.map((d) => d.metadata.label as string);

describe("PgvectorImageStore", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  let server: PgliteServer;
  let cleanup: () => Promise<void>;
  let gallery: GalleryImage[];
  let vectors: number[][];
  let documents: Document[];
  let store: PgvectorImageStore;
  let faiss: ImageFaissStore;
  const opened: PgvectorImageStore[] = [];
  const open = async (tableName: string, extra: Partial<Parameters<typeof PgvectorImageStore.initialize>[1]> = {}) => {
    const s = await PgvectorImageStore.initialize(embeddings, { connectionString: server.url, tableName, ...extra });
    opened.push(s);
    return s;
  };

  beforeAll(async () => {
    const tmp = await tempDir("lie-pgvector-");
    cleanup = tmp.cleanup;
    [server, gallery] = await Promise.all([startPgliteServer(), writeGallery(tmp.dir, PER_CLASS, 50_000)]);
    const results = await embeddings.embedImagesSettled(gallery.map((g) => g.path));
    const batch = imageDocuments(results, gallery.length, {
      idFormat: "uuid",
      metadatas: gallery.map(({ label, colour, shape }) => ({ label, colour, shape })),
    });
    expect(batch.failures).toEqual([]);
    vectors = batch.vectors;
    documents = batch.documents;
    store = await open("gallery", { hnswIndexAt: Infinity });
    await store.addVectors(vectors, documents);
    faiss = new ImageFaissStore(embeddings);
    await faiss.addVectors(vectors, documents, { ids: documents.map((d) => d.id!) });
  });

  afterAll(async () => {
    for (const s of opened) await s.end().catch(() => undefined);
    await server?.stop();
    await cleanup?.();
    await embeddings.dispose();
  });

  it("writes one row per image: adding the same images again updates them", async () => {
    const s = await open("upserts");
    const paths = gallery.slice(0, 3).map((g) => g.path);
    const first = await addImagesToStore(s, paths);
    const again = await addImagesToStore(s, paths, { idFormat: "uuid", metadatas: { album: "second" } });
    expect(await s.count()).toBe(3);
    const hashes = documents.slice(0, 3).map((d) => d.metadata.contentHash as string);
    // Content-hash ids become the UUIDs made from them; the uuid format gives the same ones.
    expect(first.ids).toEqual(hashes.map(uuidFromContentHash));
    expect(again.ids).toEqual(first.ids);
    const stored = await s.getDocumentsById(hashes);
    expect(stored.map((d) => d?.metadata.album)).toEqual(["second", "second", "second"]);
    expect(stored.map((d) => d?.metadata.source)).toEqual(paths);
  });

  it("keeps paths like the folder indexer, and deletes an entry when its last path is removed", async () => {
    const s = await open("paths");
    const hash = documents[0].metadata.contentHash as string;
    const entry = new Document({ pageContent: "", metadata: { contentHash: hash, modality: "image", paths: [] } });
    const [id] = await s.addVectors([vectors[0]], [entry], { ids: [hash] });
    expect(await s.addPath(hash, "/photos/b.png")).toBe(true);
    expect(await s.addPath(id, "/photos/a.png")).toBe(true);
    expect(await s.addPath(id, "/photos/a.png")).toBe(true);
    let [doc] = await s.getDocumentsById([id]);
    expect(doc!.metadata.paths).toEqual(["/photos/a.png", "/photos/b.png"]);
    expect(doc!.metadata.source).toBe("/photos/a.png");
    expect(doc!.pageContent).toBe("/photos/a.png");
    expect(await s.listPaths()).toEqual([{ id, contentHash: hash, paths: ["/photos/a.png", "/photos/b.png"] }]);

    expect(await s.removePath("/photos/a.png")).toEqual({ updated: [id], deleted: [] });
    [doc] = await s.getDocumentsById([id]);
    expect(doc!.metadata.paths).toEqual(["/photos/b.png"]);
    expect(doc!.pageContent).toBe("/photos/b.png");
    expect(await s.removePath("/photos/b.png")).toEqual({ updated: [], deleted: [id] });
    expect(await s.count()).toBe(0);
    expect(await s.addPath(id, "/photos/c.png")).toBe(false);
  });

  it("mergePaths keeps the stored paths of an upserted row, for writers adding the same content at once", async () => {
    const s = await open("merge_paths");
    const hash = documents[5].metadata.contentHash as string;
    const entry = (paths: string[], album: string) =>
      new Document({ pageContent: "", metadata: { contentHash: hash, album, paths, source: paths[0] } });
    // Two writers add the same image under different paths, concurrently.
    await Promise.all([
      s.addVectors([vectors[5]], [entry(["/b/2.png", "/b/1.png"], "one")], { ids: [hash], mergePaths: true }),
      s.addVectors([vectors[5]], [entry(["/a/1.png"], "two")], { ids: [hash], mergePaths: true }),
    ]);
    let [doc] = await s.getDocumentsById([hash]);
    expect(await s.count()).toBe(1);
    expect(doc!.metadata.paths).toEqual(["/a/1.png", "/b/1.png", "/b/2.png"]);
    expect(doc!.metadata.source).toBe("/a/1.png");
    expect(doc!.pageContent).toBe("/a/1.png");
    expect(["one", "two"]).toContain(doc!.metadata.album); // the rest of the row: the last writer's
    // Without it, the row is replaced.
    await s.addVectors([vectors[5]], [entry(["/c.png"], "three")], { ids: [hash] });
    [doc] = await s.getDocumentsById([hash]);
    expect(doc!.metadata).toMatchObject({ paths: ["/c.png"], source: "/c.png", album: "three" });
  });

  describe("filters", () => {
    const query = () => embeddings.embedQuery("red circle");

    it("an object filter matches values by equality, arrays by membership, in Postgres", async () => {
      const q = await query();
      const stars = await store.similaritySearchVectorWithScore(q, 5, { shape: "star" });
      expect(stars.map(([d]) => d.metadata.shape)).toEqual(Array(5).fill("star"));
      expect(stars[0][0].metadata.colour).toBe("red");
      const either = await store.similaritySearchVectorWithScore(q, 30, { shape: ["star", "square"], colour: "blue" });
      expect(either).toHaveLength(2 * PER_CLASS);
      expect(new Set(labelsOf(either.map(([d]) => d)))).toEqual(new Set(["blue star", "blue square"]));
      expect(await store.similaritySearchVectorWithScore(q, 5, { shape: "hexagon-that-is-not" })).toEqual([]);
    });

    it("a function filter returns k matches, as ImageFaissStore's does", async () => {
      const q = await query();
      const filter = (d: Document) => d.metadata.label === "green triangle";
      const ours = await store.similaritySearchVectorWithScore(q, 7, filter);
      const theirs = await faiss.similaritySearchVectorWithScore(q, 7, filter);
      expect(ours.map(([d]) => d.id)).toEqual(theirs.map(([d]) => d.id));
    });

    it("delete takes ids or an object filter", async () => {
      const s = await open("deletes");
      await s.addVectors(vectors.slice(0, 30), documents.slice(0, 30));
      const label = documents[0].metadata.label;
      await s.delete({ filter: { label } });
      expect(await s.count()).toBe(30 - PER_CLASS);
      await s.delete({ ids: [documents[PER_CLASS].metadata.contentHash as string, documents[PER_CLASS + 1].id!] });
      expect(await s.count()).toBe(28 - PER_CLASS);
    });
  });

  describe("scores and ranking against ImageFaissStore on the same images", () => {
    const queries = async () => [
      ...(await embeddings.embedDocuments(["red circle", "blue star", "a yellow square"])),
      vectors[7],
      vectors[123],
    ];

    it("scores are cosines in [-1, 1], equal to ImageFaissStore's, and the top 5 match apart from ties", async () => {
      for (const q of await queries()) {
        const ours = await store.similaritySearchVectorWithScore(q, 240);
        const theirs = await faiss.similaritySearchVectorWithScore(q, 240);
        expect(ours).toHaveLength(240);
        for (const [, score] of ours) expect(Math.abs(score)).toBeLessThanOrEqual(1 + 1e-6);
        const faissScore = new Map(theirs.map(([d, s]) => [d.id, s]));
        for (const [d, score] of ours) expect(Math.abs(score - faissScore.get(d.id)!)).toBeLessThan(1e-5);
        // Apart from ties: where FAISS's 5th and 6th differ by more than the rounding, the sets agree.
        const top = (r: [Document, number][]) => r.slice(0, 5).map(([d]) => d.id);
        if (theirs[4][1] - theirs[5][1] > 1e-5) expect(new Set(top(ours))).toEqual(new Set(top(theirs)));
        expect(ours.map(([, s]) => s)).toEqual([...ours.map(([, s]) => s)].sort((a, b) => b - a));
      }
    });

    it("stored vectors are read back by id (unit length, the float32s FAISS holds), undefined for unknown ids", async () => {
      const ids = [documents[3].id!, documents[3].metadata.contentHash as string, uuidFromContentHash("f".repeat(64))];
      const [a, b, none] = await store.getVectorsById(ids);
      expect(none).toBeUndefined();
      expect(a).toEqual(b);
      const [expected] = await faiss.getVectorsById([documents[3].id!]);
      // Vectors travel in pgvector's binary form: every float arrives as sent, byte order included.
      expect(a!.map(Math.fround)).toEqual(expected);
    });
  });

  it("LangChain's PGVectorStore over the same table finds our rows, with distance = 1 - our score", async () => {
    const theirs = await PGVectorStore.initialize(embeddings, {
      postgresConnectionOptions: { connectionString: server.url, max: 2 },
      tableName: "gallery",
      dimensions: store.dimension,
      distanceStrategy: "cosine",
    });
    try {
      const q = (await embeddings.embedDocuments(["green circle"]))[0];
      const found = await theirs.similaritySearchVectorWithScore(q, 5);
      const ours = await store.similaritySearchVectorWithScore(q, 5);
      expect(found.map(([d]) => d.id)).toEqual(ours.map(([d]) => d.id));
      found.forEach(([d, distance], i) => {
        expect(distance).toBeCloseTo(1 - ours[i][1], 5);
        expect(d.metadata).toEqual(ours[i][0].metadata);
        expect(d.pageContent).toBe(ours[i][0].pageContent);
      });
      expect(labelsOf(found.map(([d]) => d))).toEqual(Array(5).fill("green circle"));
    } finally {
      await theirs.end();
    }
  });

  it("refuses a store made with another model, naming the store, the stored model and the requested one", async () => {
    const other = new ImageEncoderEmbeddings({ model: `${ROOT}/test/fixtures/models/tiny-vit` });
    try {
      const error = await PgvectorImageStore.initialize(other, {
        connectionString: server.url,
        tableName: "gallery",
      }).then(
        (s) => (opened.push(s), undefined),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreModelMismatchError);
      const mismatch = error as StoreModelMismatchError;
      expect(mismatch.stored.model).toBe(TINY_CLIP);
      expect(mismatch.requested.model).toMatch(/tiny-vit$/);
      expect(mismatch.message).toContain(`${server.url} (table gallery)`);
      expect(mismatch.message).toContain(TINY_CLIP);
      expect(mismatch.message).toMatch(/tiny-vit/);
      // The same model opens it.
      expect(await (await open("gallery")).count()).toBe(gallery.length);
    } finally {
      await other.dispose();
    }
  });

  describe("HNSW", () => {
    it("is built automatically at hnswIndexAt rows, and searches use it", async () => {
      // Postgres' planner prefers a sequential scan with this table below a few thousand rows (measured here):
      // the gallery plus clustered filler vectors, which lie far from every gallery image.
      const s = await open("hnsw_auto", { hnswIndexAt: 5000 });
      await s.addVectors(vectors, documents);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const indexes = async () =>
          (await client.query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'hnsw_auto'`)).rows
            .map((r) => r.indexdef as string)
            .filter((d) => d.includes("USING hnsw"));
        expect(await indexes()).toEqual([]);
        const filler = clusteredVectors(5000 - gallery.length, store.dimension, 7);
        await s.addVectors(
          filler,
          filler.map((_, i) => new Document({ pageContent: `filler ${i}`, metadata: { filler: true } })),
        );
        const hnsw = await indexes();
        expect(hnsw).toHaveLength(1);
        expect(hnsw[0]).toContain("vector_cosine_ops");
        await client.query("ANALYZE hnsw_auto");
        // The store's search query (ORDER BY the distance operator, LIMIT k) runs on the index.
        const plan = await client.query(
          `EXPLAIN SELECT id, text, metadata, embedding <=> $1::vector AS distance FROM hnsw_auto
           ORDER BY embedding <=> $1::vector LIMIT 5`,
          [`[${vectors[0].join(",")}]`],
        );
        expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(
          /Index Scan using hnsw_auto_embedding_hnsw_idx/,
        );
        // It ranks as exact search does; with a selective filter and with k > ef_search it
        // still returns k rows (iterative scans), where plain HNSW stops at ef_search.
        for (const text of ["purple square", "green star", "a red circle"]) {
          const q = (await embeddings.embedDocuments([text]))[0];
          const approximate = await s.similaritySearchVectorWithScore(q, 5);
          const exact = await store.similaritySearchVectorWithScore(q, 5);
          expect(approximate.map(([d]) => d.id)).toEqual(exact.map(([d]) => d.id));
        }
        const q = (await embeddings.embedDocuments(["purple square"]))[0];
        expect(await s.similaritySearchVectorWithScore(q, PER_CLASS, { label: "orange triangle" })).toHaveLength(
          PER_CLASS,
        );
        expect(await s.similaritySearchVectorWithScore(q, 300)).toHaveLength(300);
      } finally {
        await client.end();
      }
    });

    it("createHnswIndex builds it on demand, once", async () => {
      await store.createHnswIndex({ m: 8, efConstruction: 32 });
      await store.createHnswIndex();
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client
        .query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'gallery' AND indexdef LIKE '%USING hnsw%'`)
        .finally(() => client.end());
      expect(rows).toHaveLength(1);
      expect(rows[0].indexdef).toMatch(/m='?8'?, ef_construction='?32'?/);
      await expect(store.createHnswIndex({ m: 16, efConstruction: 8 })).rejects.toThrow(/at least 2 × m/);
    });

    it("maintenanceWorkMem reaches the build and nothing else; a graph that outgrows it is reported", async () => {
      // Embeddings without a model: rows of 256 floats, enough to outgrow Postgres' smallest maintenance_work_mem.
      const plain = { embedQuery: async () => [], embedDocuments: async () => [] };
      const s = await PgvectorImageStore.initialize(plain, {
        connectionString: server.url,
        tableName: "hnsw_memory",
        dimension: 256,
        hnswIndexAt: Infinity,
      });
      opened.push(s);
      const rows = clusteredVectors(1000, 256, 11);
      await s.addVectors(
        rows,
        rows.map((_, i) => new Document({ pageContent: `${i}`, metadata: { i } })),
      );
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const setting = async () => (await client.query("SHOW maintenance_work_mem")).rows[0].maintenance_work_mem;
        const before = await setting();
        const spilled = await s.createHnswIndex({ maintenanceWorkMem: "1MB" });
        expect(spilled.built).toBe(true);
        expect(spilled.outgrewMemoryAfter).toBeGreaterThan(0);
        expect(spilled.outgrewMemoryAfter).toBeLessThan(1000);
        // SET LOCAL: the session (which all of PGlite's connections share) keeps its own setting.
        expect(await setting()).toBe(before);
        await client.query("DROP INDEX hnsw_memory_embedding_hnsw_idx");
        expect(await s.createHnswIndex({ maintenanceWorkMem: "64MB" })).toEqual({ built: true });
        expect(await s.createHnswIndex({ maintenanceWorkMem: "64MB" })).toEqual({ built: false });
        const [[best, score]] = await s.similaritySearchVectorWithScore(rows[5], 1);
        expect(best.metadata.i).toBe(5);
        expect(score).toBeCloseTo(1, 5);
      } finally {
        await client.end();
      }
      await expect(s.createHnswIndex({ maintenanceWorkMem: "1 gigabyte" })).rejects.toThrow(
        'Expected a size like "512MB" or "2GB" (kB, MB, GB or TB) for maintenanceWorkMem but received "1 gigabyte"',
      );
    });

    it("sets hnsw.ef_search (and iterative scans) on every new pooled connection", async () => {
      const s = await open("ef_search", { efSearch: 77, poolSize: 4 });
      const sessions = (s as unknown as { pool: { pool: pg.Pool; connect(): Promise<pg.PoolClient> } }).pool;
      const pool = sessions.pool;
      const other = new pg.Client({ connectionString: server.url });
      await other.connect();
      const held: pg.PoolClient[] = [];
      try {
        held.push(await sessions.connect()); // the connection initialize opened
        // PGlite shares one session between connections, so a SET made elsewhere shows on
        // ours: a fresh connection that shows 77 again ran the store's settings itself.
        for (let i = 1; i < 4; i++) {
          await other.query("SET hnsw.ef_search = 7");
          const before = pool.totalCount;
          const client = await sessions.connect();
          held.push(client);
          expect(pool.totalCount).toBe(before + 1);
          expect((await client.query("SHOW hnsw.ef_search")).rows[0]["hnsw.ef_search"]).toBe("77");
          expect((await client.query("SHOW hnsw.iterative_scan")).rows[0]["hnsw.iterative_scan"]).toBe("strict_order");
        }
      } finally {
        held.forEach((c) => c.release());
        await other.end();
      }
      await expect(open("bad_ef", { efSearch: 0 })).rejects.toThrow(/efSearch/);
    });
  });

  describe("MultimodalRetriever over it, unchanged", () => {
    const precision = (docs: Document[], label: string) =>
      labelsOf(docs).filter((l) => l === label).length / docs.length;

    it.each(CLASSES.map((c) => c.label))("text to image: P@5 >= 0.9 for %j", async (label) => {
      const docs = await new MultimodalRetriever({ vectorStore: store, k: 5 }).invoke(label);
      expect(docs).toHaveLength(5);
      expect(precision(docs, label)).toBeGreaterThanOrEqual(0.9);
    });

    it("image to image: P@5 >= 0.9 for two query images per class, itself excluded; top 5 as FAISS's", async () => {
      const ours = new MultimodalRetriever({ vectorStore: store, k: 5 });
      const theirs = new MultimodalRetriever({ vectorStore: faiss, k: 5 });
      const failures: string[] = [];
      for (const [i, image] of gallery.entries()) {
        if (i % PER_CLASS >= 2) continue;
        const docs = await ours.invoke({ image: image.path });
        if (precision(docs, image.label) < 0.9) failures.push(`${image.path}: ${labelsOf(docs).join(", ")}`);
        expect(docs.map((d) => d.metadata.source)).not.toContain(image.path);
        const reference = await theirs.invoke({ image: image.path });
        const tied =
          reference[4].metadata.score -
            (await theirs.withSearchOptions({ k: 6 }).invoke({ image: image.path }))[5].metadata.score <
          1e-5;
        if (!tied) expect(new Set(docs.map((d) => d.id))).toEqual(new Set(reference.map((d) => d.id)));
        docs.forEach((d, r) => expect(d.metadata.score).toBeCloseTo(reference[r].metadata.score, 5));
      }
      expect(failures).toEqual([]);
    });

    it("query arithmetic: 'red circle - red + blue' finds blue circles", async () => {
      const retriever = new MultimodalRetriever({ vectorStore: store, k: 5 });
      const blue = (docs: Document[]) => labelsOf(docs).filter((l) => l === "blue circle").length;
      expect(blue(await retriever.invoke("red circle"))).toBe(0);
      expect(blue(await retriever.invoke("red circle - red + blue"))).toBeGreaterThanOrEqual(4);
      const redCircle = gallery.find((g) => g.label === "red circle")!.path;
      expect(blue(await retriever.invoke(`image:${redCircle} - red + blue`))).toBeGreaterThanOrEqual(4);
    });

    it("mmr picks the same documents as over ImageFaissStore", async () => {
      const options = { k: 5, searchType: "mmr" as const, fetchK: 20, lambda: 0.5 };
      const query = { image: gallery[3 * PER_CLASS + 2].path };
      const ours = await new MultimodalRetriever({ vectorStore: store, ...options }).invoke(query);
      const theirs = await new MultimodalRetriever({ vectorStore: faiss, ...options }).invoke(query);
      expect(ours.map((d) => d.id)).toEqual(theirs.map((d) => d.id));
      const similar = await new MultimodalRetriever({ vectorStore: store, k: 5 }).invoke(query);
      expect(ours.map((d) => d.id)).not.toEqual(similar.map((d) => d.id));
    });

    it("a filter passes through to the store", async () => {
      const docs = await new MultimodalRetriever({ vectorStore: store, k: 5, filter: { shape: "star" } }).invoke(
        "red circle",
      );
      expect(docs.map((d) => d.metadata.shape)).toEqual(Array(5).fill("star"));
    });
  });

  describe("LangChain's PGVectorStore under MultimodalRetriever: scores detected and turned into cosines", () => {
    const openTheirs = (extra: Record<string, unknown> = {}) =>
      new PGVectorStore(embeddings, {
        postgresConnectionOptions: { connectionString: server.url, max: 1 },
        tableName: "gallery",
        ...extra,
      });

    it.each([
      [{}, "cosineDistance"],
      [{ distanceStrategy: "cosine" }, "cosineDistance"],
      [{ distanceStrategy: "euclidean" }, "l2Distance"],
      [{ distanceStrategy: "innerProduct" }, "negativeInnerProduct"],
      [{ distanceStrategy: "innerProduct", scoreNormalization: "similarity" }, "similarity"],
    ])("%j: scoreKind %s, the same documents and cosines as over our store", async (settings, kind) => {
      const theirs = openTheirs(settings);
      try {
        const retriever = new MultimodalRetriever({ vectorStore: theirs, k: 5 });
        expect(retriever.scoreKind).toBe(kind);
        for (const query of ["green circle", { image: gallery[2 * PER_CLASS].path }]) {
          const found = await retriever.invoke(query);
          const reference = await new MultimodalRetriever({ vectorStore: store, k: 5 }).invoke(query);
          expect(found.map((d) => d.id)).toEqual(reference.map((d) => d.id));
          found.forEach((d, i) => expect(d.metadata.score).toBeCloseTo(reference[i].metadata.score, 5));
        }
        // A threshold means a cosine here too.
        const cut = (await retriever.invoke("green circle"))[2].metadata.score as number;
        const above = await new MultimodalRetriever({ vectorStore: theirs, k: 5, scoreThreshold: cut }).invoke(
          "green circle",
        );
        expect(above.length).toBeGreaterThanOrEqual(3);
        expect(above.every((d) => d.metadata.score >= cut)).toBe(true);
      } finally {
        await theirs.end();
      }
    });

    it("normalized similarities it cannot map back to cosines are refused, unless scoreKind is given", async () => {
      const theirs = openTheirs({ distanceStrategy: "cosine", scoreNormalization: "similarity" });
      try {
        expect(() => new MultimodalRetriever({ vectorStore: theirs })).toThrow(
          /PGVectorStore with distanceStrategy "cosine" and scoreNormalization "similarity".*scoreKind/,
        );
        expect(new MultimodalRetriever({ vectorStore: theirs, scoreKind: "similarity" }).scoreKind).toBe("similarity");
      } finally {
        await theirs.end();
      }
    });
  });

  it("searchIndex reports each hit by its content hash, as over a FAISS store keyed by hash", async () => {
    const hashes = documents.map((d) => d.metadata.contentHash as string);
    const byHash = new ImageFaissStore(embeddings);
    await byHash.addVectors(vectors, documents, { ids: hashes });
    for (const query of ["blue star", { image: gallery[PER_CLASS + 1].path }]) {
      const ours = await searchIndex(store, query, { k: 5 });
      const reference = await searchIndex(byHash, query, { k: 5 });
      expect(ours.map((h) => h.id)).toEqual(reference.map((h) => h.id));
      for (const hit of ours) expect(hashes).toContain(hit.id);
    }
  });

  describe("connection failures", () => {
    it("an unreachable URL fails fast with an error naming it, password redacted", async () => {
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
      const port = (probe.address() as { port: number }).port;
      await new Promise((r) => probe.close(r));
      const url = `postgres://alice:s3cret@127.0.0.1:${port}/photos`;
      const started = performance.now();
      const error = await PgvectorImageStore.initialize(embeddings, { connectionString: url }).catch((e) => e);
      expect(error).toBeInstanceOf(StoreConnectionError);
      expect(error.message).toContain(`postgres://alice:***@127.0.0.1:${port}/photos`);
      expect(error.message).not.toContain("s3cret");
      expect(error.message).toMatch(/connection refused/);
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    it("a server that accepts and never answers fails within connectTimeoutMs", async () => {
      const sockets: Socket[] = [];
      const silent: Server = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
      const port = (silent.address() as { port: number }).port;
      try {
        const url = `postgres://bob:hunter2@127.0.0.1:${port}/db`;
        const started = performance.now();
        const error = await PgvectorImageStore.initialize(embeddings, {
          connectionString: url,
          connectTimeoutMs: 1500,
        }).catch((e) => e);
        const took = performance.now() - started;
        expect(error).toBeInstanceOf(StoreConnectionError);
        expect(error.message).toContain(`postgres://bob:***@127.0.0.1:${port}/db`);
        expect(error.message).not.toContain("hunter2");
        expect(took).toBeGreaterThanOrEqual(1400);
        expect(took).toBeLessThan(5_000);
      } finally {
        sockets.forEach((socket) => socket.destroy());
        silent.close();
      }
    });
  });
});
