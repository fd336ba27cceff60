/** tiny-clip really joins text and images: every class caption finds its own class first. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings } from "../../src/index.js";
import { TINY_CLIP } from "../helpers/fixtures.js";
import { CLASSES, renderShape } from "../helpers/shapes.js";

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

describe("tiny-clip text-to-image ranking", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  // Two SVG-drawn images per class, a generator the model never saw in training.
  const gallery = CLASSES.flatMap((c, i) => [0, 1].map((k) => ({ ...c, seed: 1000 + 10 * i + k })));
  let imageVectors: number[][];

  beforeAll(async () => {
    imageVectors = await embeddings.embedImages(await Promise.all(gallery.map((g) => renderShape(g))));
  });
  afterAll(() => embeddings.dispose());

  it.each(CLASSES.map((c) => c.label))("'a photo of a %s' ranks an image of its class first", async (label) => {
    const query = await embeddings.embedQuery(`a photo of a ${label}`);
    const scores = imageVectors.map((v) => dot(v, query));
    const best = scores.indexOf(Math.max(...scores));
    expect(gallery[best].label).toBe(label);
  });
});
