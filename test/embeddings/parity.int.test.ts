/**
 * Parity with the reference: Hugging Face transformers (Python) CLIPProcessor + the
 * model's forward pass on the same tiny-clip weights, stored by scripts/models/make_reference.py.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, cosineSimilarity } from "../../src/index.js";
import { FIXTURE_IMAGES, ROOT, TINY_CLIP } from "../helpers/fixtures.js";

interface RefImage {
  file: string;
  class: string;
  width: number;
  height: number;
  orientation: number;
  upright_width: number;
  upright_height: number;
  embedding: number[];
  embedding_q8: number[];
  embedding_ignoring_exif?: number[];
}
interface RefText {
  text: string;
  kind: string;
  input_ids: number[];
  truncated: boolean;
  embedding: number[];
  embedding_q8: number[];
}

const reference = JSON.parse(readFileSync(join(ROOT, "test/fixtures/reference/tiny-clip.json"), "utf8")) as {
  images: RefImage[];
  texts: RefText[];
};
const inputSize = JSON.parse(readFileSync(join(TINY_CLIP, "preprocessor_config.json"), "utf8")).crop_size
  .height as number;
const atModelSize = (img: RefImage) => img.orientation === 1 && img.width === inputSize && img.height === inputSize;

describe("parity with the Python reference pipeline", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  afterAll(() => embeddings.dispose());

  it("covers the required kinds of fixture image", () => {
    const files = reference.images.map((i) => i.file).join(" ");
    expect(reference.images.filter(atModelSize).length).toBeGreaterThanOrEqual(2);
    expect(reference.images.some((i) => i.width * i.height >= 4 * inputSize * inputSize)).toBe(true);
    expect(reference.images.some((i) => i.width !== i.height)).toBe(true);
    expect(reference.images.some((i) => i.orientation !== 1)).toBe(true);
    expect(files).toMatch(/\.webp/);
    expect(files).toMatch(/gray|grey/i);
    expect(files).toMatch(/alpha|rgba/i);
    expect(files).toMatch(/palette/i);
  });

  for (const image of reference.images) {
    const bound = atModelSize(image) ? 0.999 : 0.99;
    it(`${image.file}: cosine >= ${bound} to the reference`, async () => {
      const [result] = await embeddings.embedImagesSettled([join(FIXTURE_IMAGES, image.file)]);
      expect(result.error).toBeUndefined();
      const cosine = cosineSimilarity(result.embedding!, image.embedding);
      console.log(`parity image ${image.file}: ${cosine.toFixed(6)}`);
      expect(cosine).toBeGreaterThanOrEqual(bound);
      // Width and height are reported upright (after EXIF orientation).
      expect([result.image!.width, result.image!.height]).toEqual([image.upright_width, image.upright_height]);
      if (image.embedding_ignoring_exif) {
        // The orientation was really applied: closer to the upright reference than to the unrotated one.
        expect(cosine).toBeGreaterThan(cosineSimilarity(result.embedding!, image.embedding_ignoring_exif));
      }
    });
  }

  for (const text of reference.texts) {
    it(`text "${text.text.slice(0, 40)}${text.text.length > 40 ? "…" : ""}" (${text.kind}): same tokens, cosine >= 0.999`, async () => {
      expect((await embeddings.tokenize([text.text]))[0]).toEqual(text.input_ids);
      const cosine = cosineSimilarity(await embeddings.embedQuery(text.text), text.embedding);
      expect(cosine).toBeGreaterThanOrEqual(0.999);
    });
  }

  it("q8 weights stay within cosine 0.98 of fp32 and match the reference q8 run", async () => {
    const q8 = new ImageEmbeddings({ model: TINY_CLIP, dtype: "q8" });
    for (const image of reference.images.filter(atModelSize)) {
      const v = await q8.embedImage(join(FIXTURE_IMAGES, image.file));
      expect(cosineSimilarity(v, image.embedding)).toBeGreaterThanOrEqual(0.98);
      expect(cosineSimilarity(v, image.embedding_q8)).toBeGreaterThanOrEqual(0.999);
    }
    for (const text of reference.texts) {
      const v = await q8.embedQuery(text.text);
      expect(cosineSimilarity(v, text.embedding)).toBeGreaterThanOrEqual(0.98);
      expect(cosineSimilarity(v, text.embedding_q8)).toBeGreaterThanOrEqual(0.999);
    }
    await q8.dispose();
  });
});
