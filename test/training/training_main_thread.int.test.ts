/**
 * Training on the main thread when asked (inference: "main"), in a process whose models
 * also run there and in the inference worker: onnxruntime-node 1.30 runs sessions on any
 * thread, so nothing is refused.
 */
import { describe, expect, it } from "vitest";
import { ImageEmbeddings } from "../../src/embeddings/image_embeddings.js";
import { trainProjectionHead } from "../../src/training/train_head.js";
import { weakEmbeddings } from "../helpers/weak_embeddings.js";
import { TINY_CLIP } from "../helpers/fixtures.js";

describe("training on the main thread", () => {
  it("trains where it is asked to, beside models on both threads", async () => {
    const embeddings = new ImageEmbeddings({ model: TINY_CLIP, inference: "main" });
    const inWorker = new ImageEmbeddings({ model: TINY_CLIP });
    const text = await embeddings.embedQuery("a red circle");
    const trained = await trainProjectionHead({
      data: { examples: weakEmbeddings(80, 1) },
      loss: { type: "triplet" },
      head: { kind: "mlp", hiddenDim: 32, outputDim: 16 },
      seed: 7,
      epochs: 100,
      patience: 20,
      learningRate: 1e-2,
      inference: "main",
    });
    expect(trained.thread).toBe("main");
    expect(trained.validation).toBeGreaterThanOrEqual(0.9);
    // The models still run after training, on both threads.
    expect(await embeddings.embedQuery("a red circle")).toEqual(text);
    (await inWorker.embedQuery("a red circle")).forEach((x, i) => expect(x).toBeCloseTo(text[i], 6));
    // The default is the worker, whatever thread the process's models run on.
    const inTheWorker = await trainProjectionHead({
      data: { examples: weakEmbeddings(20, 5) },
      loss: { type: "triplet" },
      epochs: 2,
    });
    expect(inTheWorker.thread).toBe("worker");
    await Promise.all([embeddings.dispose(), inWorker.dispose()]);
  });
});
