/**
 * The onnxruntime engine that training uses against the exact float64 one: products,
 * a projection head's forward and backward passes (float64 and float32 parameters), and
 * batch-hard mining from a Gram matrix agree to float32 precision.
 * (This file runs onnxruntime on the test's main thread, so it uses no inference worker.)
 */
import { describe, expect, it } from "vitest";
import { exactEngine, onnxEngine, transpose } from "../../src/heads/matrix_engine.js";
import { batchHardTriplets, distancesFromGram } from "../../src/training/losses.js";
import { ProjectionHead } from "../../src/heads/projection_head.js";
import { seededRandom } from "../../src/heads/random.js";

function randomMatrix(length: number, random: () => number): Float64Array {
  return Float64Array.from({ length }, () => random() * 2 - 1);
}

/** max |a − b| / max |b|: the error relative to the scale of the exact values. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    error = Math.max(error, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return error / scale;
}

describe("matrix engines", () => {
  it("multiplies exactly on small integers, and transposes", async () => {
    // [1 2 3; 4 5 6] · [1 0; 0 1; 1 1] = [4 5; 10 11]
    const a = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float64Array.from([1, 0, 0, 1, 1, 1]);
    for (const engine of [exactEngine, onnxEngine])
      expect(Array.from(await engine.multiply(a, b, 2, 3, 2))).toEqual([4, 5, 10, 11]);
    expect(Array.from(transpose(a, 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(onnxEngine.adopt(a)).toBeInstanceOf(Float32Array);
    expect(exactEngine.adopt(a)).toBe(a);
  });

  for (const [m, k, n] of [
    [1, 512, 512],
    [64, 512, 512],
    [512, 64, 512],
    [7, 13, 3],
  ]) {
    it(`onnxruntime's product agrees with the exact one, ${m}×${k} · ${k}×${n}`, async () => {
      const random = seededRandom(m * 31 + n);
      const a = randomMatrix(m * k, random);
      const b = randomMatrix(k * n, random);
      const exact = await exactEngine.multiply(a, b, m, k, n);
      const fast = await onnxEngine.multiply(a, b, m, k, n);
      expect(fast).toBeInstanceOf(Float32Array);
      expect(fast).toHaveLength(m * n);
      expect(relativeError(fast, exact)).toBeLessThan(1e-5);
    });
  }

  it("gives a head's outputs and gradients to float32 precision (mlp 96 → 80 → 48, 40 rows)", async () => {
    const head = ProjectionHead.initialised(
      { kind: "mlp", inputDim: 96, hiddenDim: 80, outputDim: 48 },
      seededRandom(1),
    );
    const x = randomMatrix(40 * 96, seededRandom(2));
    const dz = randomMatrix(40 * 48, seededRandom(3));
    const [exact, fast] = [await head.forward(x, 40, exactEngine), await head.forward(x, 40, onnxEngine)];
    expect(relativeError(fast.z, exact.z)).toBeLessThan(1e-5);
    const [exactGrad, fastGrad] = [await head.backward(exact, dz), await head.backward(fast, dz)];
    expect(relativeError(fastGrad, exactGrad)).toBeLessThan(1e-4);
    expect(exactGrad.some((g) => g !== 0)).toBe(true);
  });

  it("trains in float32 as it would in float64: a Float32Array head gives the same outputs and gradients", async () => {
    const shape = { kind: "mlp" as const, inputDim: 96, hiddenDim: 80, outputDim: 48 };
    const head64 = ProjectionHead.initialised(shape, seededRandom(1));
    const head32 = ProjectionHead.initialised(shape, seededRandom(1), Float32Array);
    expect(head32.params).toBeInstanceOf(Float32Array);
    expect(Array.from(head32.params)).toEqual(Array.from(Float32Array.from(head64.params))); // same draws, rounded
    const x = randomMatrix(40 * 96, seededRandom(2));
    const dz = randomMatrix(40 * 48, seededRandom(3));
    const exact = await head64.forward(x, 40, exactEngine);
    const fast = await head32.forward(Float32Array.from(x), 40, onnxEngine);
    expect(fast.z).toBeInstanceOf(Float32Array);
    expect(relativeError(fast.z, exact.z)).toBeLessThan(1e-5);
    const [exactGrad, fastGrad] = [
      await head64.backward(exact, dz),
      await head32.backward(fast, Float32Array.from(dz)),
    ];
    expect(fastGrad).toBeInstanceOf(Float32Array);
    expect(relativeError(fastGrad, exactGrad)).toBeLessThan(1e-4);
  });

  for (const distance of ["cosine", "euclidean"] as const) {
    it(`mines the same batch-hard triplets from a float32 Gram matrix as from exact ${distance} distances`, async () => {
      const n = 48;
      const d = 32;
      const random = seededRandom(4);
      const rows = randomMatrix(n * d, random);
      for (let r = 0; r < n; r++) {
        const norm = Math.hypot(...rows.subarray(r * d, (r + 1) * d));
        for (let k = 0; k < d; k++) rows[r * d + k] /= norm;
      }
      const labels = Array.from({ length: n }, (_, i) => i % 6);
      const gram = await onnxEngine.multiply(rows, transpose(rows, n, d), n, d, n);
      const fromGram = distancesFromGram(gram, n, distance);
      expect(fromGram[0 * n + 1]).toBeCloseTo(
        distance === "cosine" ? 1 - dot(rows, d, 0, 1) : Math.sqrt(2 - 2 * dot(rows, d, 0, 1)),
        5,
      );
      expect(fromGram[5 * n + 5]).toBeCloseTo(0, 3);
      const mined = batchHardTriplets(rows, d, labels, distance, fromGram);
      expect(mined).toHaveLength(n);
      expect(mined).toEqual(batchHardTriplets(rows, d, labels, distance));
    });
  }
});

function dot(rows: Float64Array, d: number, a: number, b: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += rows[a * d + k] * rows[b * d + k];
  return s;
}
