/**
 * The bad-input corpus through embedImagesSettled and through `image-embeddings index`:
 * every case embeds (like its plain RGB equivalent) or fails with a clear per-file error,
 * and the other files still succeed.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, cosineSimilarity, type ImageEmbeddingResult } from "../../src/index.js";
import { type BadCase, writeBadCorpus } from "../helpers/bad_corpus.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { ensureBuilt, runCli } from "../cli/helpers.js";
import { readImageInput } from "../../src/images/image_input.js";
import { pixelSpecFromConfig } from "../../src/images/pixel_spec.js";
import { prepareImage } from "../../src/images/preprocess.js";

describe("bad-input corpus", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP, batchSize: 8 });
  let dir: string;
  let cleanup: () => Promise<void>;
  let cases: BadCase[];
  let results: ImageEmbeddingResult[];
  let rssGrowthMb: number;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("lie-bad-"));
    cases = await writeBadCorpus(join(dir, "corpus"));
    const rssBefore = process.memoryUsage().rss;
    results = await embeddings.embedImagesSettled(cases.map((c) => c.path));
    rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  });
  afterAll(async () => {
    await embeddings.dispose();
    await cleanup?.();
  });

  it("covers at least the cases issue 6 lists", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it("gives each case its expected outcome in one per-item batch", () => {
    const outcomes = cases.map((c, i) => {
      const r = results[i];
      if ("embeds" in c.expect) return [c.name, r.error ? `error ${r.error.code}: ${r.error.reason}` : "embeds"];
      return [c.name, r.error ? `error ${r.error.code}` : "embeds"];
    });
    const expected = cases.map((c) => {
      if ("embeds" in c.expect) return [c.name, "embeds"];
      const codes = [c.expect.error].flat();
      const got = results[cases.indexOf(c)].error?.code;
      return [c.name, got && codes.includes(got) ? `error ${got}` : `error ${codes.join(" or ")}`];
    });
    expect(outcomes).toEqual(expected);
  });

  it("names the file and the reason in every error, without a stack", () => {
    cases.forEach((c, i) => {
      const error = results[i].error;
      if (!error) return;
      expect(error.input).toBe(c.path);
      expect(error.message).toContain(c.path);
      expect(error.reason.length).toBeGreaterThan(5);
      expect(error.message).not.toMatch(/\n\s+at /);
    });
  });

  it("embeds each valid oddity like its plain RGB equivalent (cosine >= 0.99), EXIF orientations included", () => {
    const vectorOf = (path: string) => results[cases.findIndex((c) => c.path === path)].embedding!;
    const similarities = cases.flatMap((c, i) =>
      "embeds" in c.expect && c.expect.equivalent
        ? [[c.name, cosineSimilarity(results[i].embedding!, vectorOf(c.expect.equivalent))] as const]
        : [],
    );
    expect(similarities.length).toBeGreaterThanOrEqual(15);
    for (const [name, similarity] of similarities) expect(similarity, name).toBeGreaterThanOrEqual(0.99);
  });

  it("turns each EXIF orientation into the upright pixels the model sees (tiny-clip itself is rotation-invariant)", async () => {
    const spec = pixelSpecFromConfig(JSON.parse(await readFile(join(TINY_CLIP, "preprocessor_config.json"), "utf8")));
    const pixels = async (input: string | Buffer) =>
      (await prepareImage(await readImageInput(input), spec, { maxInputPixels: 1e8 }, "test")).pixels;
    const meanAbsDiff = (a: Float32Array, b: Float32Array) =>
      a.reduce((s, x, i) => s + Math.abs(x - b[i]), 0) / a.length;
    const upright = await pixels(cases.find((c) => c.name === "plain RGB JPEG (reference)")!.path);
    for (const c of cases.filter((c) => c.name.startsWith("EXIF orientation"))) {
      const oriented = await pixels(c.path);
      expect(meanAbsDiff(oriented, upright), c.name).toBeLessThan(0.05);
      if (c.name.endsWith(" 1")) continue;
      // The control: the same stored pixels with the orientation tag ignored are far off.
      const ignored = await pixels(
        await sharp(c.path).jpeg({ quality: 95 }).withMetadata({ orientation: 1 }).toBuffer(),
      );
      expect(meanAbsDiff(ignored, upright), `${c.name} without its tag`).toBeGreaterThan(0.1);
    }
  });

  it("refuses the decompression bomb from its header, with memory staying bounded", () => {
    const bomb = results[cases.findIndex((c) => c.name.startsWith("decompression bomb"))];
    expect(bomb.error?.reason).toMatch(/50000x50000|2500000000|pixels/);
    expect(rssGrowthMb).toBeLessThan(400);
  });

  it("indexes the corpus with the CLI: the good files indexed, each bad one named with its reason, no stack trace", async () => {
    await ensureBuilt();
    const run = await runCli(["index", join(dir, "corpus"), "--index", join(dir, "index"), "--model", TINY_CLIP]);
    const output = run.stdout + run.stderr;
    expect(output).not.toMatch(/\n\s+at /);
    const summary = /(\d+) added, 0 updated, 0 removed, 0 unchanged, (\d+) failed/.exec(output);
    expect(summary, output).not.toBeNull();
    // The walk skips the directory named folder.jpg, the symlink loop and the file that does not exist;
    // every other bad file is reported as failed, by name.
    const listed = cases.filter(
      (c) =>
        ![
          "a directory named x.jpg",
          "a symlink loop",
          "a file deleted between listing and reading",
          "SVG with a script",
        ].includes(c.name),
    );
    const failing = listed.filter((c) => "error" in c.expect);
    expect(Number(summary![2])).toBe(failing.length);
    for (const c of failing) expect(output).toContain(c.path.split("/").at(-1));
  });
});
