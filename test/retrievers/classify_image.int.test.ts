/** classifyImage (src/embeddings/zero_shot.ts) with the real tiny-clip model. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyImage } from "../../src/embeddings/zero_shot.js";
import { ImageEmbeddings, cosineSimilarity } from "../../src/index.js";
import { TINY_CLIP } from "../helpers/fixtures.js";
import { CLASSES, renderShape } from "../helpers/shapes.js";

const LABELS = CLASSES.map((c) => c.label);

describe("classifyImage", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  let images: Buffer[];

  beforeAll(async () => {
    images = await Promise.all(CLASSES.map((c, i) => renderShape({ ...c, seed: 90_000 + i })));
  });
  afterAll(() => embeddings.dispose());

  it("ranks the right label first for an image of every class", async () => {
    const wrong: string[] = [];
    for (const [i, image] of images.entries()) {
      const [best] = await classifyImage(embeddings, image, LABELS);
      if (best.label !== LABELS[i]) wrong.push(`${LABELS[i]} → ${best.label}`);
    }
    expect(wrong).toEqual([]);
  });

  it("returns every label, best first, with cosine scores and softmax(100 × cosine) probabilities", async () => {
    const ranked = await classifyImage(embeddings, images[0], LABELS);
    expect(ranked.map((r) => r.label).sort()).toEqual([...LABELS].sort());
    expect(ranked.map((r) => r.score)).toEqual(ranked.map((r) => r.score).sort((a, b) => b - a));
    expect(ranked.reduce((s, r) => s + r.probability, 0)).toBeCloseTo(1, 9);

    const imageVector = await embeddings.embedImage(images[0]);
    const [textVector] = await embeddings.embedDocuments([`a photo of a ${ranked[3].label}`]);
    expect(ranked[3].score).toBeCloseTo(cosineSimilarity(imageVector, textVector), 6);
    // softmax: the ratio of two probabilities is exp(100 × the difference of their cosines).
    expect(Math.log(ranked[0].probability / ranked[1].probability)).toBeCloseTo(
      100 * (ranked[0].score - ranked[1].score),
      6,
    );
  });

  it("topK keeps the best K, with probabilities still over all labels", async () => {
    const all = await classifyImage(embeddings, images[5], LABELS);
    const top = await classifyImage(embeddings, images[5], LABELS, { topK: 3 });
    expect(top).toEqual(all.slice(0, 3));
    expect(await classifyImage(embeddings, images[5], LABELS, { topK: 100 })).toEqual(all);
  });

  it("fills the template with each label", async () => {
    const captions: string[][] = [];
    const spy = {
      embedImage: (input: Buffer) => embeddings.embedImage(input),
      embedDocuments: (texts: string[]) => {
        captions.push(texts);
        return embeddings.embedDocuments(texts);
      },
    };
    await classifyImage(spy, images[0], ["red circle", "blue star"]);
    await classifyImage(spy, images[0], ["red circle", "blue star"], { template: "{} icon, a {}" });
    expect(captions).toEqual([
      ["a photo of a red circle", "a photo of a blue star"],
      ["red circle icon, a red circle", "blue star icon, a blue star"],
    ]);
  });

  it("logitScale sharpens or flattens the probabilities, not the order", async () => {
    const sharp = await classifyImage(embeddings, images[9], LABELS);
    const flat = await classifyImage(embeddings, images[9], LABELS, { logitScale: 1 });
    expect(flat.map((r) => r.label)).toEqual(sharp.map((r) => r.label));
    expect(flat[0].probability).toBeLessThan(sharp[0].probability);
    expect(flat[0].probability).toBeLessThan(0.1);
  });

  it.each([
    [[], {}, "Expected a non-empty array of strings for labels but received []"],
    [["a", ""], {}, 'Expected a non-empty string for labels[1] but received ""'],
    [["a", "b", "a"], {}, 'Duplicate label "a": labels must be unique'],
    [
      ["a"],
      { template: "a photo" },
      'Expected a template containing "{}" (where the label goes) but received "a photo"',
    ],
    [["a"], { topK: 0 }, "Expected positive integer for topK but received 0 of type number"],
    [["a"], { logitScale: -1 }, "Expected a positive number for logitScale but received -1"],
  ])("rejects labels %j with options %j", async (labels, options, message) => {
    await expect(classifyImage(embeddings, images[0], labels as string[], options)).rejects.toThrow(message);
  });
});
