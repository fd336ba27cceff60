/**
 * The folder indexer's per-batch planning (`planChanges`, one file per batch here), on
 * real files with tiny-clip: swapped contents, a moved file, duplicate contents, an
 * updated file and a deleted one give exact counts and entries. The run that only moves,
 * swaps and deletes happens with the model's image tower gone, which proves it embeds nothing.
 */
import { cp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indexFolders } from "../../src/indexer/folder_indexer.js";
import { openIndexVectors } from "../../src/indexer/open_index.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { writeShapes } from "../cli/helpers.js";

describe("indexFolders, a batch at a time", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let photos: string;
  let indexDir: string;
  let model: string;
  const at = (name: string) => join(photos, name);

  /** Each entry's paths, by entry id (content hash). */
  const entries = async () => {
    const { store } = await openIndexVectors(indexDir);
    return new Map(store.entries().map(({ id, document }) => [id, document.metadata.paths as string[]]));
  };
  const run = () => indexFolders([photos], { indexDir, batchSize: 1 });

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("lie-folder-indexer-"));
    photos = join(dir, "photos");
    indexDir = join(dir, "index");
    model = join(dir, "tiny-clip");
    await cp(TINY_CLIP, model, { recursive: true });
    await writeShapes(photos, [
      { file: "a.png", colour: "red", shape: "circle", seed: 1 },
      { file: "b.png", colour: "blue", shape: "star", seed: 2 },
      { file: "c.png", colour: "green", shape: "square", seed: 3 },
      { file: "d1.png", colour: "red", shape: "star", seed: 4 },
    ]);
    await writeFile(at("d2.png"), await readFile(at("d1.png")));
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it("stores duplicate contents as one entry with all their paths", async () => {
    const summary = await indexFolders([photos], { indexDir, model, batchSize: 1 });
    expect(summary).toMatchObject({ added: 5, updated: 0, removed: 0, unchanged: 0, failed: 0, entries: 4 });
    expect([...(await entries()).values()].sort()).toEqual([
      [at("a.png")],
      [at("b.png")],
      [at("c.png")],
      [at("d1.png"), at("d2.png")],
    ]);
  });

  it("follows swapped, moved and deleted files without embedding anything", async () => {
    const before = await entries();
    const idOf = (path: string) => [...before].find(([, paths]) => paths.includes(path))![0];
    const [a, b, c, d] = ["a.png", "b.png", "c.png", "d1.png"].map((name) => idOf(at(name)));
    const [bytesA, bytesB] = [await readFile(at("a.png")), await readFile(at("b.png"))];
    await writeFile(at("a.png"), bytesB);
    await writeFile(at("b.png"), bytesA);
    await rename(at("c.png"), at("z-moved.png")); // planned in the last batch, after c.png's path is gone
    await rm(at("d2.png"));
    const tower = join(model, "onnx/vision_model.onnx");
    await rename(tower, `${tower}.away`);
    try {
      const summary = await run();
      expect(summary).toMatchObject({ added: 1, updated: 2, removed: 2, unchanged: 1, failed: 0, entries: 4 });
    } finally {
      await rename(`${tower}.away`, tower);
    }
    expect(await entries()).toEqual(
      new Map([
        [a, [at("b.png")]],
        [b, [at("a.png")]],
        [c, [at("z-moved.png")]],
        [d, [at("d1.png")]],
      ]),
    );
  });

  it("embeds a changed file's new bytes, drops the entry it left empty, and embeds new duplicates once", async () => {
    const d = [...(await entries())].find(([, paths]) => paths.includes(at("d1.png")))![0];
    await writeShapes(photos, [
      { file: "d1.png", colour: "blue", shape: "circle", seed: 5 },
      { file: "new1.png", colour: "green", shape: "star", seed: 6 },
    ]);
    await writeFile(at("new2.png"), await readFile(at("new1.png")));
    const summary = await run();
    expect(summary).toMatchObject({ added: 2, updated: 1, removed: 0, unchanged: 3, failed: 0, entries: 5 });
    const after = await entries();
    expect(after.has(d)).toBe(false);
    expect([...after.values()].filter((paths) => paths.length === 2)).toEqual([[at("new1.png"), at("new2.png")]]);
    expect([...after.values()].every((paths) => paths.length > 0)).toBe(true);
  });
});
