/**
 * A fast, seeded slice of the image fuzzer (the long run is `npm run fuzz`, results in
 * docs/reliability.md): mutated JPEG, PNG and WebP files through embedImage never crash
 * the process; each embeds to a finite unit vector or fails with an ImageInputError.
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, ImageInputError } from "../../src/index.js";
import { TINY_CLIP } from "../helpers/fixtures.js";
import { mutate } from "../helpers/mutations.js";
import { renderShape } from "../helpers/shapes.js";

const PER_FORMAT = 60;

describe("fuzzing embedImage (seeded subset)", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  const originals: Record<string, Buffer> = {};

  beforeAll(async () => {
    const png = await renderShape({ colour: "green", shape: "star", seed: 21, width: 200, height: 150 });
    originals.png = png;
    originals.jpeg = await sharp(png).jpeg({ quality: 85 }).toBuffer();
    originals.webp = await sharp(png).webp({ quality: 80 }).toBuffer();
  });
  afterAll(() => embeddings.dispose());

  for (const format of ["jpeg", "png", "webp"]) {
    it(`${PER_FORMAT} mutated ${format} files: each embeds or fails with a documented error`, async () => {
      const outcomes: Record<string, number> = {};
      for (let seed = 1; seed <= PER_FORMAT; seed++) {
        const { bytes, mutation } = mutate(originals[format], seed * 7919);
        try {
          const vector = await embeddings.embedImage(bytes);
          expect(vector.every(Number.isFinite), `${format} seed ${seed} (${mutation})`).toBe(true);
          expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
          outcomes.embedded = (outcomes.embedded ?? 0) + 1;
        } catch (error) {
          expect(error, `${format} seed ${seed} (${mutation}): ${String(error)}`).toBeInstanceOf(ImageInputError);
          const code = (error as ImageInputError).code;
          expect(["CORRUPT_IMAGE", "UNSUPPORTED_FORMAT", "TOO_LARGE"]).toContain(code);
          outcomes[code] = (outcomes[code] ?? 0) + 1;
        }
      }
      // Both outcomes occur: the mutations are neither all harmless nor all fatal.
      expect(outcomes.embedded).toBeGreaterThan(0);
      expect(PER_FORMAT - outcomes.embedded).toBeGreaterThan(0);
    });
  }
});
