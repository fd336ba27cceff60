/**
 * `vectorsOnDisk: true` on real faiss-node: the store behaves exactly as the in-memory one
 * (adds, upserts, deletes, filters, rebuilds, IVF training, MMR, duplicates), saves and
 * loads both ways without copying vector bytes it need not, and survives SIGKILL mid-add
 * and mid-save with the last saved contents.
 */
import { spawn } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, ImageFaissStore, MANIFEST_VERSION, MultimodalRetriever } from "../../src/index.js";
import { duplicateGroups } from "../../src/indexer/search.js";
import { ROOT, TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { rng } from "../helpers/shapes.js";
import { applyRound, expectedAfter, lastRound } from "../helpers/disk_store_rounds.js";
import { clusteredVectors, documentsFor, noEmbeddings } from "../helpers/vectors.js";

const DIM = 32;
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("lie-ondisk-"));
});
afterAll(async () => {
  await cleanup();
});

async function results(store: ImageFaissStore, queries: number[][], k: number, filter?: (d: Document) => boolean) {
  const out = [];
  for (const q of queries) {
    out.push((await store.similaritySearchVectorWithScore(q, k, filter)).map(([d, s]) => [d.id, d.metadata, s]));
  }
  return out;
}

/** The same ids, documents and vectors, and the same answers to searches with and without a filter. */
async function expectSameStore(a: ImageFaissStore, b: ImageFaissStore, queries: number[][]): Promise<void> {
  expect(b.size).toBe(a.size);
  const ids = a.entries().map((e) => e.id);
  expect(b.entries().map((e) => e.id)).toEqual(ids);
  expect(await b.getVectorsById([...ids, "nope"])).toEqual(await a.getVectorsById([...ids, "nope"]));
  const even = (d: Document) => (d.metadata.i as number) % 2 === 0;
  expect(await results(b, queries, 10)).toEqual(await results(a, queries, 10));
  expect(await results(b, queries, 5, even)).toEqual(await results(a, queries, 5, even));
}

/** Plays the same adds, upserts and deletes on both stores. */
async function both(stores: ImageFaissStore[], work: (store: ImageFaissStore) => Promise<unknown>) {
  for (const store of stores) await work(store);
}

describe("vectorsOnDisk", () => {
  const vectors = clusteredVectors(900, DIM, 5, 30, 0.2);
  const { documents, ids } = documentsFor(vectors);
  const queries = clusteredVectors(12, DIM, 77, 30, 0.2);

  for (const indexType of ["Flat", "HNSW16", "IVF8,Flat"]) {
    it(`adds, upserts, deletes, filters, rebuilds and trains like the in-memory store (${indexType})`, async () => {
      const scratch = join(dir, `scratch-${indexType}`);
      const options = { indexType, ivfTrainSize: 500 };
      const memory = new ImageFaissStore(noEmbeddings, options);
      const disk = new ImageFaissStore(noEmbeddings, { ...options, vectorsOnDisk: true, vectorsDir: scratch });
      expect([memory.vectorsOnDisk, disk.vectorsOnDisk]).toEqual([false, true]);
      const stores = [memory, disk];

      await both(stores, (s) =>
        s.addVectors(vectors.slice(0, 400), documents.slice(0, 400), { ids: ids.slice(0, 400) }),
      );
      expect(disk.isTrained).toBe(indexType !== "IVF8,Flat"); // IVF: exact search over the file until trained
      await expectSameStore(memory, disk, queries);

      // Upsert: new vectors for v0..v19; then enough rows to train IVF (from the rows on disk).
      const replaced = clusteredVectors(20, DIM, 9, 30, 0.2);
      await both(stores, (s) => s.addVectors(replaced, documents.slice(0, 20), { ids: ids.slice(0, 20) }));
      await both(stores, (s) => s.addVectors(vectors.slice(400), documents.slice(400), { ids: ids.slice(400) }));
      expect(disk.isTrained).toBe(true);
      expect((await disk.getVectorsById(["v3"]))[0]![0]).toBeCloseTo(replaced[3][0] / Math.hypot(...replaced[3]), 6);
      await expectSameStore(memory, disk, queries);

      // A delete under a quarter leaves tombstones; past a quarter the index is rebuilt into a new file.
      const [fileBefore] = await readdir(join(scratch, (await readdir(scratch))[0]));
      await both(stores, (s) => s.delete({ ids: ids.slice(100, 150) }));
      await expectSameStore(memory, disk, queries);
      await both(stores, (s) => s.delete({ ids: ids.slice(150, 450) }));
      await expectSameStore(memory, disk, queries);
      const filesAfter = await readdir(join(scratch, (await readdir(scratch))[0]));
      expect(filesAfter).toHaveLength(1); // the old scratch file is gone with the table it belonged to
      expect(filesAfter[0]).not.toBe(fileBefore);
      await expect(disk.delete({ ids: ["v100"] })).rejects.toThrow("Cannot delete unknown ids: v100");
    }, 120_000);
  }

  it("finds the same duplicates as the in-memory store", async () => {
    const base = clusteredVectors(200, DIM, 11, 10, 0.3);
    const copies = [base[3], base[3].map((x) => x + 1e-4), base[50]];
    const all = [...base, ...copies];
    const docs = all.map((_, i) => new Document({ pageContent: `p${i}`, metadata: { i, source: `/photos/${i}.jpg` } }));
    const allIds = all.map((_, i) => `d${i}`);
    const memory = new ImageFaissStore(noEmbeddings);
    const disk = new ImageFaissStore(noEmbeddings, { vectorsOnDisk: true });
    await both([memory, disk], (s) => s.addVectors(all, docs, { ids: allIds }));
    const groups = duplicateGroups(disk, 0.999);
    expect(groups).toEqual(duplicateGroups(memory, 0.999));
    const ids = groups.map((g) => g.images.map((image) => image.id).sort());
    expect(ids).toContainEqual(["d200", "d201", "d3"]);
    expect(ids).toContainEqual(["d202", "d50"]);
  });

  it("gives MMR the same vectors as the in-memory store (MultimodalRetriever, tiny-clip)", async () => {
    const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
    try {
      const texts = ["a red circle", "a red square", "a blue circle", "a green triangle", "red", "a red disc"];
      const docs = texts.map((t, i) => new Document({ pageContent: t, metadata: { i } }));
      const memory = await ImageFaissStore.fromDocuments(docs, embeddings);
      const disk = await ImageFaissStore.fromDocuments(docs, embeddings, { vectorsOnDisk: true });
      const mmr = (store: ImageFaissStore) =>
        new MultimodalRetriever({ vectorStore: store, k: 3, searchType: "mmr", fetchK: 6, lambda: 0.3 }).invoke(
          "a red circle",
        );
      const picked = await mmr(disk);
      expect(picked.map((d) => [d.pageContent, d.metadata.score])).toEqual(
        (await mmr(memory)).map((d) => [d.pageContent, d.metadata.score]),
      );
      expect(picked).toHaveLength(3);
    } finally {
      await embeddings.dispose();
    }
  });

  it("saves without writing vector bytes into the folder its files live in, and loads either way", async () => {
    const target = join(dir, "round-trip");
    const store = new ImageFaissStore(noEmbeddings, { indexType: "HNSW16", vectorsOnDisk: true });
    await store.addVectors(vectors.slice(0, 300), documents.slice(0, 300), { ids: ids.slice(0, 300) });
    await store.save(target);
    const version = async () => join(target, (await readFile(join(target, "CURRENT"), "utf8")).trim());
    const manifest = async () => JSON.parse(await readFile(join(await version(), "manifest.json"), "utf8"));
    const first = await manifest();
    expect(first).toMatchObject({ version: MANIFEST_VERSION, count: 300, vectorFiles: [{ rows: 300 }] });
    expect(await readdir(await version())).not.toContain("vectors.f32");
    const file = join(target, "vectors", first.vectorFiles[0].file);
    const before = await stat(file);
    expect(before.size).toBe(300 * DIM * 4);

    // Saved again unchanged: the file is neither rewritten nor copied.
    await store.save(target);
    expect((await manifest()).vectorFiles).toEqual(first.vectorFiles);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
    // After more adds, the same file grows by the new rows only.
    await store.addVectors(vectors.slice(300, 350), documents.slice(300, 350), { ids: ids.slice(300, 350) });
    await store.save(target);
    expect((await manifest()).vectorFiles).toEqual([{ file: first.vectorFiles[0].file, rows: 350 }]);
    expect((await stat(file)).ino).toBe(before.ino);

    const onDisk = await ImageFaissStore.load(target, noEmbeddings, { vectorsOnDisk: true });
    const inMemory = await ImageFaissStore.load(target, noEmbeddings);
    expect([onDisk.vectorsOnDisk, inMemory.vectorsOnDisk]).toEqual([true, false]);
    // Prefetching reads the saved rows once (into the page cache) and changes no result.
    expect(await onDisk.prefetchVectors()).toBe(350 * DIM * 4);
    expect(await inMemory.prefetchVectors()).toBe(0);
    await expectSameStore(store, onDisk, queries);
    await expectSameStore(store, inMemory, queries);

    // A loaded store appends to a file of its own; the saved file keeps its rows.
    await onDisk.addVectors(vectors.slice(350, 360), documents.slice(350, 360), { ids: ids.slice(350, 360) });
    await onDisk.save(target);
    const grown = await manifest();
    expect(grown.vectorFiles).toEqual([
      { file: first.vectorFiles[0].file, rows: 350 },
      { file: expect.not.stringMatching(first.vectorFiles[0].file), rows: 10 },
    ]);
    await expectSameStore(onDisk, await ImageFaissStore.load(target, noEmbeddings), queries);

    // Saved to another folder: copied there, and the first folder is left as it was.
    const elsewhere = join(dir, "round-trip-copy");
    await onDisk.save(elsewhere);
    const copied = JSON.parse(
      await readFile(
        join(elsewhere, (await readFile(join(elsewhere, "CURRENT"), "utf8")).trim(), "manifest.json"),
        "utf8",
      ),
    );
    expect(copied.vectorFiles.map((f: { rows: number }) => f.rows)).toEqual([350, 10]);
    const copiedFile = await stat(join(elsewhere, "vectors", copied.vectorFiles[0].file));
    expect(copiedFile.ino).not.toBe(before.ino);
    expect((await manifest()).vectorFiles).toEqual(grown.vectorFiles);
    await expectSameStore(
      onDisk,
      await ImageFaissStore.load(elsewhere, noEmbeddings, { vectorsOnDisk: true }),
      queries,
    );
  });

  it("opens a store saved in memory (vectors.f32) in place, and links its file on the next save", async () => {
    const target = join(dir, "from-memory");
    const memory = new ImageFaissStore(noEmbeddings, { indexType: "IVF8,Flat", ivfTrainSize: 300 });
    await memory.addVectors(vectors.slice(0, 400), documents.slice(0, 400), { ids: ids.slice(0, 400) });
    await memory.save(target);
    const oldVersion = join(target, (await readFile(join(target, "CURRENT"), "utf8")).trim());
    const manifest = JSON.parse(await readFile(join(oldVersion, "manifest.json"), "utf8"));
    expect(manifest.version).toBe(2);
    expect(manifest.vectorFiles).toBeUndefined();

    const disk = await ImageFaissStore.load(target, noEmbeddings, { vectorsOnDisk: true, ivfTrainSize: 300 });
    await expectSameStore(memory, disk, queries);
    await disk.save(target);
    const [linked] = await readdir(join(target, "vectors"));
    expect((await stat(join(target, "vectors", linked))).ino).toBe((await stat(join(oldVersion, "vectors.f32"))).ino);
    // Two more saves remove the old version folder; the linked file holds the rows still.
    await disk.save(target);
    await disk.save(target);
    await expect(stat(oldVersion)).rejects.toMatchObject({ code: "ENOENT" });
    await expectSameStore(memory, await ImageFaissStore.load(target, noEmbeddings, { vectorsOnDisk: true }), queries);
  });

  it("refuses bad vectorsOnDisk and vectorsDir options with a clear error", () => {
    expect(() => new ImageFaissStore(noEmbeddings, { vectorsOnDisk: "yes" as unknown as boolean })).toThrow(
      'Expected a boolean for vectorsOnDisk but received "yes"',
    );
    expect(() => new ImageFaissStore(noEmbeddings, { vectorsDir: "/tmp/x" })).toThrow(
      "vectorsDir is where vectorsOnDisk keeps a new store's vectors: it needs vectorsOnDisk: true",
    );
    expect(() => new ImageFaissStore(noEmbeddings, { vectorsOnDisk: true, vectorsDir: "" })).toThrow(
      'Expected a folder path for vectorsDir but received ""',
    );
  });

  /** Starts the child that plays rounds into `target`; resolves once its output matches `until`. */
  function startLoop(target: string, indexType: string, until: RegExp, mode?: string) {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "test/helpers/disk_save_loop.ts"), target, indexType, ...(mode ? [mode] : [])],
      { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    let output = "";
    const reached = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (until.test(output)) resolve();
      }),
    );
    const kill = async () => {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    };
    return { reached, kill, output: () => output };
  }

  async function expectRound(target: string, round: number): Promise<void> {
    const loaded = await ImageFaissStore.load(target, noEmbeddings, { vectorsOnDisk: true });
    expect(lastRound(loaded)).toBe(round);
    expect(
      loaded
        .entries()
        .map((e) => e.id)
        .sort(),
    ).toEqual([...expectedAfter(round).keys()].sort());
  }

  it("ignores rows appended after the last save by a killed run, and the next run goes on from the save", async () => {
    const target = join(dir, "killed-after-add");
    const first = startLoop(target, "Flat", /saved 1\n/);
    await first.reached;
    await first.kill();
    const round = Number([...first.output().matchAll(/saved (\d+)/g)].at(-1)![1]);
    const manifest = async () =>
      JSON.parse(
        await readFile(join(target, (await readFile(join(target, "CURRENT"), "utf8")).trim(), "manifest.json"), "utf8"),
      );
    const saved = (await manifest()).vectorFiles as { file: string; rows: number }[];

    const unsaved = startLoop(target, "Flat", /added \d+\n/, "unsaved");
    await unsaved.reached;
    await unsaved.kill();
    // The killed run wrote its rows to a file of its own, which no version refers to.
    const files = await readdir(join(target, "vectors"));
    const orphan = files.find((f) => !saved.some((s) => s.file === f))!;
    expect((await stat(join(target, "vectors", orphan))).size).toBeGreaterThanOrEqual(2_000 * 64 * 4);
    expect((await manifest()).vectorFiles).toEqual(saved);
    await expectRound(target, round);

    const next = startLoop(target, "Flat", new RegExp(`saved ${round + 1}\\n`));
    await next.reached;
    await next.kill();
    const after = Number([...next.output().matchAll(/saved (\d+)/g)].at(-1)![1]);
    await expectRound(target, after);
    expect(await readdir(join(target, "vectors"))).not.toContain(orphan); // removed by that run's save
  }, 120_000);

  for (const indexType of ["Flat", "HNSW16"]) {
    it(`a run killed with SIGKILL mid-add or mid-save leaves the last saved contents (${indexType})`, async () => {
      const target = join(dir, `killed-${indexType}`);
      const random = rng(indexType.length + 7);
      for (let kill = 0; kill < 5; kill++) {
        const saved = new Set<number>();
        let started = -1;
        const child = spawn(
          process.execPath,
          ["--import", "tsx", join(ROOT, "test/helpers/disk_save_loop.ts"), target, indexType],
          { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
        );
        const firstSave = new Promise<void>((resolve) =>
          child.stdout.on("data", (chunk: Buffer) => {
            for (const m of chunk.toString().matchAll(/(saving|saved) (\d+)/g)) {
              if (m[1] === "saved") saved.add(Number(m[2]));
              else started = Number(m[2]);
            }
            if (saved.size > 0) resolve();
          }),
        );
        await firstSave;
        // Anywhere in the adds and saves that follow.
        await new Promise((resolve) => setTimeout(resolve, random() * 600));
        child.kill("SIGKILL");
        await new Promise((resolve) => child.once("exit", resolve));

        const onDisk = await ImageFaissStore.load(target, noEmbeddings, { vectorsOnDisk: true });
        const round = lastRound(onDisk);
        // The last completed save, never a torn mix: it may have completed just before the kill, unprinted.
        expect(saved.has(round) || round === started).toBe(true);
        const expected = expectedAfter(round);
        const entries = onDisk.entries();
        expect(entries.map((e) => e.id).sort()).toEqual([...expected.keys()].sort());
        for (const { id, vector } of entries) {
          const v = expected.get(id)!;
          const norm = Math.hypot(...v);
          expect(Math.abs(vector[7] - v[7] / norm)).toBeLessThan(1e-6);
          expect(Math.abs(vector[63] - v[63] / norm)).toBeLessThan(1e-6);
        }
        await expectSameStore(onDisk, await ImageFaissStore.load(target, noEmbeddings), [expected.get("r0-0")!]);
      }
      // A clean save removes the files only killed runs used: what is left is what versions refer to.
      const store = await ImageFaissStore.load(target, noEmbeddings, { vectorsOnDisk: true });
      await applyRound(store, 1_000);
      await store.save(target);
      const referenced = new Set<string>();
      for (const name of (await readdir(target)).filter((e) => e.startsWith("v-"))) {
        const m = JSON.parse(await readFile(join(target, name, "manifest.json"), "utf8"));
        m.vectorFiles.forEach((f: { file: string }) => referenced.add(f.file));
      }
      expect((await readdir(join(target, "vectors"))).sort()).toEqual([...referenced].sort());
    }, 240_000);
  }
});
