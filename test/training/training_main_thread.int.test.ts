/**
 * A process whose models run on the main thread (inference: "main") trains there too, and
 * asking for the worker then is refused with a clear error rather than crashing
 * onnxruntime (models/onnx_thread.ts).
 */
import { describe, expect, it } from "vitest";
import { ImageEmbeddings } from "../../src/embeddings/image_embeddings.js";
import { trainProjectionHead } from "../../src/training/train_head.js";
import { weakEmbeddings } from "../helpers/weak_embeddings.js";
import { TINY_CLIP } from "../helpers/fixtures.js";

describe("training on the main thread", () => {
  it("follows the thread that already runs this process's models", async () => {
    const embeddings = new ImageEmbeddings({ model: TINY_CLIP, inference: "main" });
    const text = await embeddings.embedQuery("a red circle");
    const trained = await trainProjectionHead({
      data: { examples: weakEmbeddings(80, 1) },
      loss: { type: "triplet" },
      head: { kind: "mlp", hiddenDim: 32, outputDim: 16 },
      seed: 7,
      epochs: 100,
      patience: 20,
      learningRate: 1e-2,
    });
    expect(trained.thread).toBe("main");
    expect(trained.validation).toBeGreaterThanOrEqual(0.9);
    // The models still run after training here.
    expect(await embeddings.embedQuery("a red circle")).toEqual(text);
    await expect(
      trainProjectionHead({
        data: { examples: weakEmbeddings(20, 5) },
        loss: { type: "triplet" },
        inference: "worker",
      }),
    ).rejects.toThrow(/already runs models with inference: "main"/);
  });
});
