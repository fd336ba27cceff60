/** Every ImageEmbeddings option has an observable effect. */
import { cp, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Embeddings } from "@langchain/core/embeddings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, ModelLoadError, cosineSimilarity } from "../../src/index.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { CLASSES, renderShape } from "../helpers/shapes.js";

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const maxAbsDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - b[i][j]))));

describe("ImageEmbeddings options", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP, batchSize: 4 });
  let images: Buffer[];
  const texts = [
    "a red circle",
    "a photo of a blue square",
    "star",
    "",
    "GREEN triangle",
    "a purple star on a white table",
  ];

  beforeAll(async () => {
    images = await Promise.all(CLASSES.slice(0, 10).map((c, i) => renderShape({ ...c, seed: 100 + i })));
  });
  afterAll(() => embeddings.dispose());

  it("is a LangChain Embeddings", () => {
    expect(embeddings).toBeInstanceOf(Embeddings);
    expect(ImageEmbeddings.lc_name()).toBe("ImageEmbeddings");
  });

  it("exposes the dimension from config.json, matching the vectors", async () => {
    const dim = await embeddings.getDimension();
    expect(dim).toBeGreaterThan(0);
    expect(await embeddings.embedQuery("a red circle")).toHaveLength(dim);
    expect(await embeddings.embedImage(images[0])).toHaveLength(dim);
  });

  it("returns unit vectors by default and raw ones with normalize: false", async () => {
    const raw = new ImageEmbeddings({ model: TINY_CLIP, normalize: false });
    const [unitText, rawText] = [await embeddings.embedQuery("a red circle"), await raw.embedQuery("a red circle")];
    const [unitImage, rawImage] = [await embeddings.embedImage(images[0]), await raw.embedImage(images[0])];
    expect(norm(unitText)).toBeCloseTo(1, 5);
    expect(norm(unitImage)).toBeCloseTo(1, 5);
    expect(Math.abs(norm(rawText) - 1)).toBeGreaterThan(1e-3);
    expect(Math.abs(norm(rawImage) - 1)).toBeGreaterThan(1e-3);
    // Same direction: normalising the raw vector gives the default one.
    expect(cosineSimilarity(rawText, unitText)).toBeGreaterThan(0.99999);
    expect(cosineSimilarity(rawImage, unitImage)).toBeGreaterThan(0.99999);
    await raw.dispose();
  });

  it("is deterministic", async () => {
    expect(await embeddings.embedImages(images.slice(0, 3))).toEqual(await embeddings.embedImages(images.slice(0, 3)));
    expect(await embeddings.embedDocuments(texts)).toEqual(await embeddings.embedDocuments(texts));
  });

  it("gives the same vectors batched as one by one (batchSize), for images and texts", async () => {
    const batched = await embeddings.embedImages(images); // batches of 4, 4, 2
    const single = [];
    for (const image of images) single.push(await embeddings.embedImage(image));
    expect(maxAbsDiff(batched, single)).toBeLessThanOrEqual(1e-5);

    const textBatched = await embeddings.embedDocuments(texts); // padded to the longest in each batch
    const textSingle = [];
    for (const text of texts) textSingle.push(await embeddings.embedQuery(text));
    expect(maxAbsDiff(textBatched, textSingle)).toBeLessThanOrEqual(1e-5);

    const wide = new ImageEmbeddings({ model: TINY_CLIP, batchSize: 64 });
    expect(maxAbsDiff(await wide.embedImages(images), single)).toBeLessThanOrEqual(1e-5);
    await wide.dispose();
  });

  it("loads the q8 weights with dtype: 'q8', close to fp32", async () => {
    const q8 = new ImageEmbeddings({ model: TINY_CLIP, dtype: "q8" });
    const [fp32Images, q8Images] = [await embeddings.embedImages(images), await q8.embedImages(images)];
    const [fp32Texts, q8Texts] = [await embeddings.embedDocuments(texts), await q8.embedDocuments(texts)];
    const cosines = [
      ...fp32Images.map((v, i) => cosineSimilarity(v, q8Images[i])),
      ...fp32Texts.map((v, i) => cosineSimilarity(v, q8Texts[i])),
    ];
    expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.98);
    // Really a different model file: not bit-identical.
    expect(maxAbsDiff(fp32Images, q8Images)).toBeGreaterThan(0);
    await q8.dispose();
  });

  it("passes threads and sessionOptions to onnxruntime", async () => {
    const oneThread = new ImageEmbeddings({
      model: TINY_CLIP,
      threads: 1,
      sessionOptions: { graphOptimizationLevel: "disabled" },
    });
    const vectors = await oneThread.embedImages(images.slice(0, 2));
    expect(maxAbsDiff(vectors, await embeddings.embedImages(images.slice(0, 2)))).toBeLessThanOrEqual(1e-5);
    await oneThread.dispose();
    const broken = new ImageEmbeddings({
      model: TINY_CLIP,
      sessionOptions: { executionProviders: ["no-such-provider"] },
    });
    await expect(broken.embedQuery("x")).rejects.toThrow(/no-such-provider|execution provider|backend/i);
  });

  it("reports loading progress through progressCallback", async () => {
    const events: { status: string; file?: string }[] = [];
    const withProgress = new ImageEmbeddings({ model: TINY_CLIP, progressCallback: (e) => events.push(e) });
    await withProgress.embedQuery("a red circle");
    expect(events.some((e) => e.status === "initiate" && e.file === "tokenizer.json")).toBe(true);
    expect(events.some((e) => e.status === "done" && e.file === "onnx/text_model.onnx")).toBe(true);
    await withProgress.dispose();
  });

  it("loads towers lazily and only when needed", async () => {
    const events: { status: string; file?: string }[] = [];
    const lazy = new ImageEmbeddings({ model: TINY_CLIP, progressCallback: (e) => events.push(e) });
    expect(events).toHaveLength(0);
    await lazy.embedImage(images[0]);
    expect(events.some((e) => e.file?.includes("vision_model"))).toBe(true);
    expect(events.some((e) => e.file?.includes("text_model"))).toBe(false);
    await lazy.dispose();
  });

  it("loads a Hub id from cacheDir with localFilesOnly, and names model and cache when it is missing", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // A model cached by an earlier download lives at <cacheDir>/<owner>/<name>/.
      await mkdir(join(dir, "acme"), { recursive: true });
      await cp(TINY_CLIP, join(dir, "acme/tiny-clip"), { recursive: true });
      const cached = new ImageEmbeddings({ model: "acme/tiny-clip", cacheDir: dir, localFilesOnly: true });
      expect(await cached.embedQuery("a red circle")).toEqual(await embeddings.embedQuery("a red circle"));
      await cached.dispose();

      const missing = new ImageEmbeddings({ model: "acme/not-downloaded", cacheDir: dir, localFilesOnly: true });
      const error = await missing.embedQuery("x").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelLoadError);
      expect((error as ModelLoadError).model).toBe("acme/not-downloaded");
      expect((error as Error).message).toContain(dir);
      expect((error as Error).message).toMatch(/localFilesOnly/);
      expect((error as Error).message).toMatch(/pass its directory/);
    } finally {
      await cleanup();
    }
  });

  it("forgets a failed load, so a retry succeeds once the model is there", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const modelDir = join(dir, "model");
      const late = new ImageEmbeddings({ model: modelDir });
      await expect(late.embedImage(images[0])).rejects.toBeInstanceOf(ModelLoadError);
      await cp(TINY_CLIP, modelDir, { recursive: true });
      expect(await late.embedImage(images[0])).toEqual(await embeddings.embedImage(images[0]));
      await late.dispose();
    } finally {
      await cleanup();
    }
  });

  it("stays usable after dispose(), reloading on the next call", async () => {
    const reusable = new ImageEmbeddings({ model: TINY_CLIP });
    const before = await reusable.embedQuery("a blue star");
    await reusable.dispose();
    expect(await reusable.embedQuery("a blue star")).toEqual(before);
    await reusable.dispose();
  });

  it("validates options before any model is loaded", () => {
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, batchSize: 0 })).toThrow(
      "Expected positive integer for batchSize but received 0 of type number",
    );
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, threads: 1.5 })).toThrow(/threads/);
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, maxInputPixels: -1 })).toThrow(/maxInputPixels/);
    expect(() => new ImageEmbeddings({ model: "  " })).toThrow(/model/);
    expect(new ImageEmbeddings().model).toBe("Xenova/clip-vit-base-patch32");
  });
});
