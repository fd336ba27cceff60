/** trainProjectionHead on synthetic embeddings whose class signal a trained head must find (helpers/weak_embeddings.ts). */
import { describe, expect, it } from "vitest";
import { trainProjectionHead, type TrainingLoss } from "../../src/training/train_head.js";
import { gaussian, seededRandom } from "../../src/heads/random.js";
import { DIM, weakEmbeddings } from "../helpers/weak_embeddings.js";

describe("trainProjectionHead", () => {
  const examples = weakEmbeddings(80, 1);

  const losses: [string, TrainingLoss][] = [
    ["triplet, cosine, batch-hard", { type: "triplet", distance: "cosine", margin: 0.2 }],
    ["triplet, euclidean, random triplets", { type: "triplet", distance: "euclidean", margin: 0.3, mining: "random" }],
    ["InfoNCE, temperature 0.1", { type: "infonce", temperature: 0.1 }],
  ];
  for (const [name, loss] of losses) {
    it(`lifts held-out recall@1 from near chance to >= 0.9 with ${name}`, async () => {
      const trained = await trainProjectionHead({
        data: { examples },
        loss,
        head: { kind: "mlp", hiddenDim: 32, outputDim: 16 },
        seed: 7,
        epochs: 100,
        patience: 20,
        learningRate: 1e-2,
      });
      expect(trained.baseline).toBeLessThanOrEqual(0.35);
      expect(trained.validation).toBeGreaterThanOrEqual(0.9);
      expect(trained.history[trained.bestEpoch - 1].validation).toBe(trained.validation);
      expect(trained.head.shape).toEqual({ kind: "mlp", inputDim: DIM, hiddenDim: 32, outputDim: 16 });
    });
  }

  it("is deterministic for a seed, and different for another", async () => {
    const run = (seed: number) =>
      trainProjectionHead({
        data: { examples },
        loss: { type: "triplet" },
        head: { kind: "linear", outputDim: 8 },
        seed,
        epochs: 3,
      });
    const [a, b, c] = await Promise.all([run(1), run(1), run(2)]);
    expect(Array.from(a.head.params)).toEqual(Array.from(b.head.params));
    expect(Array.from(a.head.params)).not.toEqual(Array.from(c.head.params));
  });

  it("stops early once validation stops improving, keeping the best epoch's head", async () => {
    const trained = await trainProjectionHead({
      data: { examples },
      loss: { type: "infonce" },
      seed: 3,
      epochs: 500,
      patience: 3,
    });
    expect(trained.history.length).toBeLessThan(500);
    expect(trained.history.length - trained.bestEpoch).toBe(3);
    expect(Math.max(...trained.history.map((h) => h.validation))).toBe(trained.validation);
  });

  it("trains InfoNCE on pairs (image and caption style) and triplet loss on explicit triplets", async () => {
    // Pairs share a 4-d signal of their own under independent nuisance, like a photo and its caption.
    const random = seededRandom(5);
    const pairs = Array.from({ length: 320 }, () => {
      const signal = Array.from({ length: 4 }, () => gaussian(random) * 0.6);
      const view = () =>
        Array.from({ length: DIM }, (_, k) => (k < 4 ? signal[k] + gaussian(random) * 0.05 : gaussian(random)));
      return { a: view(), b: view() };
    });
    const paired = await trainProjectionHead({
      data: { pairs },
      loss: { type: "infonce" },
      seed: 1,
      epochs: 100,
      patience: 20,
      learningRate: 1e-2,
    });
    expect(paired.baseline).toBeLessThanOrEqual(0.2);
    expect(paired.validation).toBeGreaterThanOrEqual(paired.baseline + 0.3);

    const byLabel = new Map<string, number[][]>();
    for (const e of examples) byLabel.set(e.label, [...(byLabel.get(e.label) ?? []), e.vector]);
    const groups = [...byLabel.values()];
    const triplets = groups.flatMap((g, gi) =>
      g.slice(0, 60).map((anchor, i) => ({
        anchor,
        positive: g[(i + 3) % g.length],
        negative: groups[(gi + 1 + Math.floor(random() * 7)) % 8][i],
      })),
    );
    const tripleted = await trainProjectionHead({
      data: { triplets },
      loss: { type: "triplet", margin: 0.3 },
      seed: 1,
      epochs: 100,
      patience: 20,
      learningRate: 1e-2,
    });
    expect(tripleted.baseline).toBeLessThan(0.8);
    expect(tripleted.validation).toBeGreaterThanOrEqual(Math.max(0.85, tripleted.baseline + 0.2));
  });

  it("refuses mismatched data and loss, ragged vectors and too few classes", async () => {
    await expect(
      trainProjectionHead({ data: { pairs: [{ a: [1, 0], b: [0, 1] }] }, loss: { type: "triplet" } }),
    ).rejects.toThrow(/pairs train with the infonce loss/);
    await expect(
      trainProjectionHead({
        data: {
          examples: [
            { vector: [1, 0], label: 1 },
            { vector: [1], label: 2 },
          ],
        },
        loss: { type: "triplet" },
      }),
    ).rejects.toThrow(/training vector 1 has 1 dimensions, not 2/);
    const oneClass = Array.from({ length: 10 }, () => ({ vector: [1, 0, 0], label: "only" }));
    await expect(trainProjectionHead({ data: { examples: oneClass }, loss: { type: "triplet" } })).rejects.toThrow(
      /at least two classes/,
    );
    await expect(
      trainProjectionHead({ data: { examples }, loss: { type: "triplet" }, inference: "gpu" as never }),
    ).rejects.toThrow(/Expected "worker" or "main" for inference but received "gpu"/);
  });
});
