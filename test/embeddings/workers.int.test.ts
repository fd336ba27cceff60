/**
 * The `workers` option: batches spread over a pool of inference workers, each with its own
 * weights; vectors, output order and per-item errors are exactly those of one worker.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, ImageInputError, type ImageEmbeddingResult } from "../../src/index.js";
import { FIXTURE_IMAGES, TINY_CLIP } from "../helpers/fixtures.js";

const IMAGES = readdirSync(FIXTURE_IMAGES)
  .sort()
  .map((f) => join(FIXTURE_IMAGES, f));
// Bad inputs spread through the batches: a missing file, bytes that are no image, an empty buffer.
const MIXED = [
  ...IMAGES.slice(0, 3),
  join(FIXTURE_IMAGES, "missing.png"),
  ...IMAGES.slice(3, 7),
  Buffer.from("not an image"),
  ...IMAGES.slice(7),
  Buffer.alloc(0),
  IMAGES[0],
];
const TEXTS = ["a red circle", "a photo of a big blue square on a white page", "star", "a green triangle", "purple"];

/** What a caller sees of a settled result: the vector, or the error's type, code and message. */
function outcome(r: ImageEmbeddingResult) {
  return r.error
    ? { index: r.index, error: [r.error.constructor.name, (r.error as ImageInputError).code, r.error.message] }
    : { index: r.index, embedding: r.embedding, image: r.image };
}

describe("a pool of inference workers", () => {
  // One thread per worker on both sides, so that the sums run in the same order: identical vectors.
  const one = new ImageEmbeddings({ model: TINY_CLIP, batchSize: 2, threads: 1 });
  const events: { status: string; file?: string }[] = [];
  const two = new ImageEmbeddings({
    model: TINY_CLIP,
    batchSize: 2,
    threads: 1,
    workers: 2,
    progressCallback: (e) => events.push(e),
  });
  afterAll(() => Promise.all([one.dispose(), two.dispose()]));

  it("loads the weights in each worker, and gives the same vectors in input order", async () => {
    const [pooled, single] = await Promise.all([two.embedImages(IMAGES), one.embedImages(IMAGES)]);
    expect(pooled).toEqual(single);
    expect(events.filter((e) => e.status === "done" && e.file === "onnx/vision_model.onnx")).toHaveLength(2);
    // Batches of one, so every batch is its own request: order still holds.
    const small = new ImageEmbeddings({ model: TINY_CLIP, batchSize: 1, threads: 1, workers: 2 });
    expect(await small.embedImages(IMAGES)).toEqual(single);
    await small.dispose();
  });

  it("reports each bad input at its index with the same error as one worker", async () => {
    const [pooled, single] = await Promise.all([two.embedImagesSettled(MIXED), one.embedImagesSettled(MIXED)]);
    expect(pooled.map((r) => r.index)).toEqual(MIXED.map((_, i) => i));
    expect(pooled.filter((r) => r.error).map((r) => r.index)).toEqual([3, 8, 12]);
    expect(pooled.map(outcome)).toEqual(single.map(outcome));
  });

  it("stops at the same input with failFast, and embedImages names the same bad inputs", async () => {
    const [pooled, single] = await Promise.all([
      two.embedImagesSettled(MIXED, { failFast: true }),
      one.embedImagesSettled(MIXED, { failFast: true }),
    ]);
    expect(pooled).toHaveLength(4);
    expect(pooled.map(outcome)).toEqual(single.map(outcome));
    const [a, b] = await Promise.all([
      two.embedImages(MIXED).catch((e: Error) => e.message),
      one.embedImages(MIXED).catch((e: Error) => e.message),
    ]);
    expect(a).toMatch(/^3 of 14 images could not be embedded/);
    expect(a).toEqual(b);
  });

  it("spreads text batches too, in input order", async () => {
    const texts = [...TEXTS, ...TEXTS.map((t) => `${t} again`)];
    expect(await two.embedDocuments(texts)).toEqual(await one.embedDocuments(texts));
  });

  it("gives each worker its share of the cores, and checks the option", () => {
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, workers: 0 })).toThrow(
      /Expected positive integer for workers but received 0/,
    );
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, workers: 1.5 })).toThrow(/positive integer for workers/);
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, workers: 2, inference: "main" })).toThrow(
      /workers: 2 needs inference: "worker"/,
    );
  });
});
