/**
 * Concurrency: many overlapping calls on one ImageEmbeddings give the serial vectors;
 * readers of an index folder never see a torn index while `index` writes it in another
 * process (each save is a complete version folder behind an atomic CURRENT pointer);
 * and a second `index` on the same folder is refused, not interleaved.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings } from "../../src/index.js";
import { openIndexVectors } from "../../src/indexer/open_index.js";
import { CLASSES, renderShape } from "../helpers/shapes.js";
import { FIXTURE_IMAGES, TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { CLI, cliEnv, collect, ensureBuilt, runCli, writeShapes } from "../cli/helpers.js";
import { readdir } from "node:fs/promises";

describe("concurrency", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    await ensureBuilt();
    ({ dir, cleanup } = await tempDir("lie-conc-"));
    // Enough images that `index` saves many times (after each batch of 16).
    await writeShapes(
      join(dir, "photos"),
      CLASSES.flatMap((c, i) =>
        [0, 1, 2, 3, 4].map((k) => ({
          file: `${c.colour}-${c.shape}-${k}.png`,
          colour: c.colour,
          shape: c.shape,
          seed: 7000 + 10 * i + k,
        })),
      ),
    );
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it("gives the same vectors for 60 overlapping embedImage and embedQuery calls as for serial calls", async () => {
    const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
    const images = (await readdir(FIXTURE_IMAGES)).map((f) => join(FIXTURE_IMAGES, f));
    const buffers = await Promise.all(CLASSES.slice(0, 10).map((c, i) => renderShape({ ...c, seed: i })));
    const texts = CLASSES.map((c) => `a photo of a ${c.label}`);
    const calls = Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0
        ? () => embeddings.embedQuery(texts[i % texts.length])
        : i % 3 === 1
          ? () => embeddings.embedImage(images[i % images.length])
          : () => embeddings.embedImage(buffers[i % buffers.length]),
    );
    const serial: number[][] = [];
    for (const call of calls) serial.push(await call());
    const concurrent = await Promise.all(calls.map((call) => call()));
    expect(concurrent).toEqual(serial);
    await embeddings.dispose();
  });

  it("never shows a torn index to readers while `index` writes it in another process", async () => {
    const index = join(dir, "index");
    const writer = spawn(
      process.execPath,
      [CLI, "index", join(dir, "photos"), "--index", index, "--model", TINY_CLIP, "--batch-size", "8"],
      { env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    const done = collect(writer);
    let finished = false;
    void done.then(() => (finished = true));
    const seen: number[] = [];
    while (!finished) {
      try {
        const { store, manifest } = await openIndexVectors(index);
        // A version folder is complete or invisible: its manifest and its vectors agree.
        expect(store.entries().length).toBe(manifest.count);
        seen.push(manifest.count);
      } catch (error) {
        // Before the first save there is no index yet; nothing else may go wrong.
        expect(String(error)).toMatch(/No image index in|no index/i);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b)); // only ever grows
    expect((await openIndexVectors(index)).manifest.count).toBe(120);
  });

  it("refuses a second `index` on the same folder while the first runs", async () => {
    const index = join(dir, "index2");
    const first = spawn(
      process.execPath,
      [CLI, "index", join(dir, "photos"), "--index", index, "--model", TINY_CLIP, "--batch-size", "4"],
      { env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    const firstDone = collect(first);
    // Wait until the first run holds the lock.
    for (let i = 0; i < 200; i++) {
      if ((await readdir(index).catch((): string[] => [])).includes("LOCK")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const second = await runCli(["index", join(dir, "photos"), "--index", index, "--model", TINY_CLIP]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/is being written by another process \(pid \d+ on .*\)\. Wait for it to finish/);
    const firstResult = await firstDone;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    expect((await openIndexVectors(index)).manifest.count).toBe(120);
  });
});
