/** save → load for every index type, manifest checks, and saves that survive SIGKILL. */
import { spawn } from "node:child_process";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ImageEmbeddings,
  ImageFaissStore,
  IncompatibleIndexError,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
} from "../../src/index.js";
import { ROOT, TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { rng } from "../helpers/shapes.js";
import { clusteredVectors, documentsFor, noEmbeddings } from "../helpers/vectors.js";

describe("ImageFaissStore persistence", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  let dim: number;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    dim = await embeddings.getDimension();
  });
  afterAll(async () => {
    await cleanup();
    await embeddings.dispose();
  });

  const cases = [
    { indexType: "Flat", count: 500 },
    { indexType: "HNSW16", count: 500 },
    { indexType: "IVF8,Flat", count: 500 }, // trained (ivfTrainSize 200)
    { indexType: "IVF8,Flat", count: 100 }, // saved before training
  ];
  for (const { indexType, count } of cases) {
    it(`save → load gives identical results for ${indexType} with ${count} vectors`, async () => {
      const store = new ImageFaissStore(embeddings, { indexType, ivfTrainSize: 200 });
      const vectors = clusteredVectors(count, dim, 3, 20, 0.2);
      const { documents, ids } = documentsFor(vectors);
      await store.addVectors(vectors, documents, { ids });
      await store.delete({ ids: ["v3", "v7"] });
      const target = join(dir, `${indexType}-${count}`);
      await store.save(target);
      const loaded = await ImageFaissStore.load(target, embeddings, { ivfTrainSize: 200 });
      expect(loaded.size).toBe(count - 2);
      expect(loaded.isTrained).toBe(store.isTrained);
      for (const q of vectors.slice(0, 20)) {
        const before = await store.similaritySearchVectorWithScore(q, 10);
        const after = await loaded.similaritySearchVectorWithScore(q, 10);
        expect(after.map(([d, s]) => [d.id, d.metadata, s])).toEqual(before.map(([d, s]) => [d.id, d.metadata, s]));
      }
      // The loaded store keeps working: upsert and delete.
      await loaded.addVectors([vectors[3]], [documents[3]], { ids: ["v3"] });
      await loaded.delete({ ids: ["v4"] });
      expect(loaded.size).toBe(count - 2);
    });
  }

  it("loads a store saved before docstore.jsonl, whose entries are one docstore.json", async () => {
    const store = new ImageFaissStore(embeddings, { indexType: "HNSW16" });
    const vectors = clusteredVectors(50, dim, 4);
    await store.addVectors(...withIds(vectors));
    await store.delete({ ids: ["v0"] });
    const target = join(dir, "legacy-docstore");
    await store.save(target);
    // Rewrite the saved entries as the earlier format held them.
    const version = join(target, (await readFile(join(target, "CURRENT"), "utf8")).trim());
    const lines = (await readFile(join(version, "docstore.jsonl"), "utf8")).trimEnd().split("\n").slice(1);
    const positions = JSON.parse(lines[0]);
    const documents = lines.slice(1).map((line) => JSON.parse(line));
    expect(positions).toHaveLength(50);
    expect(documents).toHaveLength(49);
    await writeFile(join(version, "docstore.json"), JSON.stringify({ positions, documents }));
    await rm(join(version, "docstore.jsonl"));
    const loaded = await ImageFaissStore.load(target, embeddings);
    expect(loaded.size).toBe(49);
    const [[best, score]] = await loaded.similaritySearchVectorWithScore(vectors[7], 1);
    expect(best.id).toBe("v7");
    expect(score).toBeCloseTo(1, 5);
  });

  it("writes a versioned manifest", async () => {
    const store = new ImageFaissStore(embeddings, { indexType: "HNSW16", metric: "l2" });
    await store.addVectors(...withIds(clusteredVectors(10, dim)));
    const target = join(dir, "manifest");
    await store.save(target);
    const version = (await readFile(join(target, "CURRENT"), "utf8")).trim();
    const manifest = JSON.parse(await readFile(join(target, version, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({
      format: MANIFEST_FORMAT,
      version: 2, // an in-memory store needs no vectorFiles, so earlier releases still open it
      model: TINY_CLIP,
      dtype: "fp32",
      dimension: dim,
      metric: "l2",
      indexType: "HNSW16",
      normalized: true,
      projectionHead: null,
      count: 10,
    });
  });

  it("refuses a different model or dimension with a clear error", async () => {
    const store = new ImageFaissStore(embeddings);
    await store.addVectors(...withIds(clusteredVectors(5, dim)));
    const target = join(dir, "mismatch");
    await store.save(target);
    const other = new ImageEmbeddings({ model: "Xenova/clip-vit-base-patch32", localFilesOnly: true });
    await expect(ImageFaissStore.load(target, other)).rejects.toThrow(
      `was built with model "${TINY_CLIP}", but these embeddings use "Xenova/clip-vit-base-patch32"`,
    );
    const error = await ImageFaissStore.load(target, other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompatibleIndexError);
    expect(error).toMatchObject({
      directory: target,
      field: "model",
      saved: TINY_CLIP,
      current: "Xenova/clip-vit-base-patch32",
    });
    // Same model, but the saved vectors claim another dimension.
    const wrongDim = new ImageFaissStore(embeddings);
    await wrongDim.addVectors(...withIds(clusteredVectors(5, dim + 3)));
    await wrongDim.save(join(dir, "wrong-dim"));
    await expect(ImageFaissStore.load(join(dir, "wrong-dim"), embeddings)).rejects.toThrow(
      `holds ${dim + 3}-d vectors, but model "${TINY_CLIP}" makes ${dim}-d vectors`,
    );
    await expect(ImageFaissStore.load(join(dir, "wrong-dim"), embeddings)).rejects.toMatchObject({
      name: "IncompatibleIndexError",
      field: "dimension",
      saved: dim + 3,
      current: dim,
    });
    await expect(ImageFaissStore.load(join(dir, "nothing-here"), embeddings)).rejects.toThrow(
      /No saved ImageFaissStore/,
    );
  });

  it("refuses a manifest of another format, or of a newer version, naming the file or folder", async () => {
    const store = new ImageFaissStore(embeddings);
    await store.addVectors(...withIds(clusteredVectors(3, dim)));
    const target = join(dir, "manifest-checks");
    await store.save(target);
    const manifestFile = join(target, (await readFile(join(target, "CURRENT"), "utf8")).trim(), "manifest.json");
    const saved = JSON.parse(await readFile(manifestFile, "utf8"));
    await writeFile(manifestFile, JSON.stringify({ ...saved, version: 99 }));
    await expect(ImageFaissStore.load(target, embeddings)).rejects.toThrow(
      `${target} was saved by a newer version (manifest version 99); upgrade langchain-image-embeddings`,
    );
    await expect(ImageFaissStore.load(target, embeddings)).rejects.toMatchObject({
      name: "IncompatibleIndexError",
      field: "version",
      saved: 99,
      current: MANIFEST_VERSION,
    });
    await writeFile(manifestFile, JSON.stringify({ ...saved, format: "something-else" }));
    await expect(ImageFaissStore.load(target, embeddings)).rejects.toThrow(
      `${manifestFile} is not an ImageFaissStore manifest`,
    );
    await expect(ImageFaissStore.load(target, embeddings)).rejects.toMatchObject({
      field: "format",
      saved: "something-else",
      current: MANIFEST_FORMAT,
    });
  });

  it("keeps only the current and the previous version on disk", async () => {
    const store = new ImageFaissStore(embeddings);
    const target = join(dir, "versions");
    for (let i = 0; i < 4; i++) {
      await store.addVectors(...withIds(clusteredVectors(3, dim, i + 1), `s${i}-`));
      await store.save(target);
    }
    const entries = (await readdir(target)).sort();
    expect(entries.filter((e) => e.startsWith("v-"))).toHaveLength(2);
    expect(entries.filter((e) => e.startsWith(".staging") || e.startsWith("CURRENT.tmp"))).toEqual([]);
    expect((await ImageFaissStore.load(target, embeddings)).size).toBe(12);
  });

  for (const indexType of ["Flat", "HNSW16"]) {
    it(`a save killed with SIGKILL at random moments leaves a loadable store (${indexType})`, async () => {
      const target = join(dir, `killed-${indexType}`);
      const random = rng(indexType.length);
      const sizesSaved = new Set<number>();
      for (let kill = 0; kill < 5; kill++) {
        let lastStarted = -1;
        const child = spawn(
          process.execPath,
          ["--import", "tsx", join(ROOT, "test/helpers/save_loop.ts"), target, indexType],
          {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "inherit"],
          },
        );
        child.stdout.on("data", (chunk: Buffer) => {
          for (const m of chunk.toString().matchAll(/(saving|saved) (\d+)/g)) {
            if (m[1] === "saved") sizesSaved.add(Number(m[2]));
            else lastStarted = Number(m[2]);
          }
        });
        // Wait for the first save, then kill at a random moment of the following ones.
        await new Promise<void>((resolve) => {
          const onData = (chunk: Buffer) =>
            chunk.toString().includes("saved") && (child.stdout.off("data", onData), resolve());
          child.stdout.on("data", onData);
        });
        await new Promise((resolve) => setTimeout(resolve, 50 + random() * 400));
        child.kill("SIGKILL");
        await new Promise((resolve) => child.once("exit", resolve));
        const loaded = await ImageFaissStore.load(target, noEmbeddings);
        // Exactly one of the completed saves, never a torn mix. (The last save may have
        // completed just before the kill, before it could print "saved".)
        expect(sizesSaved.has(loaded.size) || loaded.size === lastStarted).toBe(true);
        const [[top, score]] = await loaded.similaritySearchVectorWithScore(clusteredVectors(1, 64, 1)[0], 1);
        expect(top.id).toMatch(/^r0-/);
        expect(score).toBeGreaterThan(0.9);
      }
    }, 120_000);
  }
});

function withIds(vectors: number[][], prefix = "v") {
  const { documents, ids } = documentsFor(vectors, prefix);
  return [vectors, documents, { ids }] as const;
}
