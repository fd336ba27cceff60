/** What the store reads from a factory string before faiss exists, and which vectors it trains on. */
import { describe, expect, it } from "vitest";
import { factoryToBuild, trainingNeeds, trainingSample } from "../../src/vectorstores/index_training.js";

describe("index training", () => {
  it("reads the training size and the least faiss accepts from the factory string", () => {
    const { needsTraining, defaultSize, minimum } = trainingNeeds("OPQ16,IVF1024,PQ16");
    expect({ needsTraining, defaultSize, minimum }).toEqual({
      needsTraining: true,
      defaultSize: 39 * 1024,
      minimum: 1024,
    });
    expect(trainingNeeds("IVF64,PQ8x4").minimum).toBe(64);
    expect(trainingNeeds("IVF16,PQ8x10").minimumReason).toBe("the 1024 centroids of each PQ sub-quantizer");
    expect(trainingNeeds("HNSW32,SQ8")).toMatchObject({ needsTraining: true, defaultSize: 1_000, minimum: 1 });
    expect(trainingNeeds("HNSW32").needsTraining).toBe(false);
    expect(trainingNeeds("SQfp16").needsTraining).toBe(false);
  });

  it("builds PQ without polysemous training, leaving other parts alone", () => {
    expect(factoryToBuild("OPQ16,IVF256,PQ16")).toBe("OPQ16,IVF256,PQ16np");
    expect(factoryToBuild("PQ8x4")).toBe("PQ8x4np");
    expect(factoryToBuild("IVF16,PQ8np")).toBe("IVF16,PQ8np");
    expect(factoryToBuild("IVF16,PQ8x4fs")).toBe("IVF16,PQ8x4fs");
    expect(factoryToBuild("HNSW32,SQ8")).toBe("HNSW32,SQ8");
  });

  it("samples distinct positions from the whole range, the same every time", () => {
    const sample = trainingSample(100_000, 1_000);
    expect(sample).toHaveLength(1_000);
    expect(new Set(sample).size).toBe(1_000);
    expect(sample).toEqual([...sample].sort((a, b) => a - b));
    expect(sample[0]).toBeLessThan(1_000);
    expect(sample.at(-1)).toBeGreaterThan(99_000);
    // Every tenth of the range gets about a tenth of the sample.
    for (let tenth = 0; tenth < 10; tenth++) {
      const inTenth = sample.filter((p) => Math.floor(p / 10_000) === tenth).length;
      expect(inTenth).toBeGreaterThan(60);
      expect(inTenth).toBeLessThan(140);
    }
    expect(trainingSample(100_000, 1_000)).toEqual(sample);
    expect(trainingSample(5, 10)).toEqual([0, 1, 2, 3, 4]);
  });
});
