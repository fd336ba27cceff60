/**
 * Where training runs. Its matrix products run on onnxruntime, which blocks the thread it
 * runs on: by default that is the process's training worker (training/training_worker.ts),
 * which keeps this thread's event loop free while training. (The main-thread case is in
 * training_main_thread.int.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { trainProjectionHead, type EpochStats } from "../../src/training/train_head.js";
import { weakEmbeddings } from "../helpers/weak_embeddings.js";

describe("training thread", () => {
  it("trains in the training worker by default, reporting each epoch back in order", async () => {
    const epochs: EpochStats[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const trained = await trainProjectionHead({
      data: { examples: weakEmbeddings(200, 3) },
      loss: { type: "triplet" },
      head: { kind: "mlp", hiddenDim: 256, outputDim: 32 },
      epochs: 6,
      patience: 6,
      seed: 2,
      onEpoch: (stats) => epochs.push(stats),
    });
    clearInterval(timer);
    expect(trained.thread).toBe("worker");
    expect(epochs).toEqual(trained.history);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(trained.validation).toBeGreaterThan(trained.baseline + 0.3);
    expect(trained.head.shape).toEqual({ kind: "mlp", inputDim: 24, hiddenDim: 256, outputDim: 32 });
    // The event loop here kept running while the worker trained.
    expect(ticks).toBeGreaterThan(trained.seconds * 50);
  });

  it("brings the worker's errors back with their type and message", async () => {
    const oneClass = weakEmbeddings(10, 1).map((e) => ({ ...e, label: e.label === "class-0" ? "a" : "a" }));
    await expect(trainProjectionHead({ data: { examples: oneClass }, loss: { type: "triplet" } })).rejects.toThrow(
      RangeError,
    );
  });
});
