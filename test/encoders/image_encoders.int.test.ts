/**
 * ImageEncoderEmbeddings on the project's random-weight tiny-vit and tiny-resnet
 * (scripts/models/build_tiny_encoders.py): parity with Hugging Face's processor and
 * PyTorch forward pass, each pooling, clear errors for nonsense pooling and for text,
 * and image-to-image search through the store and the retriever.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEncoderEmbeddings, ImageFaissStore, MultimodalRetriever, cosineSimilarity } from "../../src/index.js";
import { FIXTURE_IMAGES, ROOT, tempDir } from "../helpers/fixtures.js";

const TINY_VIT = join(ROOT, "test/fixtures/models/tiny-vit");
const TINY_RESNET = join(ROOT, "test/fixtures/models/tiny-resnet");
type Reference = Record<string, { vit_cls: number[]; vit_mean: number[]; resnet_mean: number[] }>;

describe("image-only encoders", () => {
  let reference: Reference;
  const created: ImageEncoderEmbeddings[] = [];
  const make = (fields: ConstructorParameters<typeof ImageEncoderEmbeddings>[0]) => {
    const e = new ImageEncoderEmbeddings(fields);
    created.push(e);
    return e;
  };
  beforeAll(async () => {
    reference = JSON.parse(await readFile(join(ROOT, "test/fixtures/reference/tiny-encoders.json"), "utf8")).images;
  });
  afterAll(() => Promise.all(created.map((e) => e.dispose())));

  it("ViT: CLS pooling by default, and mean pooling of the patch tokens, equal to the PyTorch reference", async () => {
    const cls = make({ model: TINY_VIT });
    const mean = make({ model: TINY_VIT, pooling: "mean", normalize: false });
    expect(await cls.getDimension()).toBe(32);
    for (const [file, ref] of Object.entries(reference)) {
      const path = join(FIXTURE_IMAGES, file);
      expect(cosineSimilarity(await cls.embedImage(path), ref.vit_cls), file).toBeGreaterThan(0.999);
      const raw = await mean.embedImage(path);
      expect(cosineSimilarity(raw, ref.vit_mean), file).toBeGreaterThan(0.999);
      expect(Math.hypot(...raw)).toBeCloseTo(Math.hypot(...ref.vit_mean), 1);
    }
  });

  it("ResNet: global average pooling by default, equal to the model's own pooler_output", async () => {
    const resnet = make({ model: TINY_RESNET });
    expect(await resnet.getDimension()).toBe(16);
    for (const [file, ref] of Object.entries(reference)) {
      expect(
        cosineSimilarity(await resnet.embedImage(join(FIXTURE_IMAGES, file)), ref.resnet_mean),
        file,
      ).toBeGreaterThan(0.999);
    }
  });

  it("max and attention pooling give unit vectors that differ from mean pooling", async () => {
    const image = join(FIXTURE_IMAGES, "green-triangle-800x600.jpg");
    for (const model of [TINY_VIT, TINY_RESNET]) {
      const [mean, max, attention] = await Promise.all(
        ["mean", "max", "attention"].map((pooling) => make({ model, pooling: pooling as "mean" }).embedImage(image)),
      );
      for (const v of [max, attention]) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
      expect(cosineSimilarity(max, mean)).toBeLessThan(0.9999);
      expect(cosineSimilarity(attention, mean)).toBeGreaterThan(0.5); // a reweighted mean
    }
  });

  it("refuses cls pooling on a CNN, unknown poolings, and text, each saying why", async () => {
    await expect(
      make({ model: TINY_RESNET, pooling: "cls" }).embedImage(join(FIXTURE_IMAGES, "red-circle-80.png")),
    ).rejects.toThrow(
      /pooling "cls" makes no sense for .*tiny-resnet" \(resnet\): its output has no CLS token \(a CNN gives a feature map\)\. Use mean, max or attention/,
    );
    expect(() => make({ model: TINY_VIT, pooling: "sum" as never })).toThrow(
      /Expected one of cls, mean, max, attention for pooling/,
    );
    await expect(make({ model: TINY_VIT }).embedQuery("a red circle")).rejects.toThrow(
      /is an image-only encoder \(vit\): it has no text tower.*use ImageEmbeddings with a CLIP model/,
    );
    expect(() => new ImageEncoderEmbeddings({} as never)).toThrow(/needs a model/);
  });

  it("plugs into the store and the retriever for image-to-image search, and the manifest records the pooling", async () => {
    const { dir, cleanup } = await tempDir("lie-enc-");
    try {
      const embeddings = make({ model: TINY_VIT });
      const files = Object.keys(reference).concat([
        "blue-square-80.png",
        "purple-star-600x800.jpg",
        "green-star.webp",
        "orange-circle-40x30.png",
      ]);
      const store = await ImageFaissStore.fromImages(
        files.map((f) => join(FIXTURE_IMAGES, f)),
        embeddings,
      );
      const retriever = new MultimodalRetriever({ vectorStore: store, k: 1 });
      for (const file of files) {
        // A slightly smaller copy of each image finds its original first.
        const query = await sharp(join(FIXTURE_IMAGES, file)).resize({ width: 90 }).png().toBuffer();
        const [best] = await retriever.invoke({ image: query });
        expect(best.metadata.source, file).toBe(join(FIXTURE_IMAGES, file));
      }
      await store.save(join(dir, "index"));
      const loaded = await ImageFaissStore.load(join(dir, "index"), make({ model: TINY_VIT }));
      expect(loaded.loadedManifest).toMatchObject({ pooling: "default", dimension: 32 });
      await expect(
        ImageFaissStore.load(join(dir, "index"), make({ model: TINY_VIT, pooling: "mean" })),
      ).rejects.toThrow(/built with pooling "default", but these embeddings use "mean"/);
    } finally {
      await cleanup();
    }
  });
});
