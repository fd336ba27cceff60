/**
 * The onnxruntime engine that training uses against the exact float64 one: products,
 * and a projection head's forward and backward passes, agree to float32 precision.
 * (This file runs onnxruntime on the test's main thread, so it uses no inference worker.)
 */
import { describe, expect, it } from "vitest";
import { exactEngine, onnxEngine, transpose } from "../../src/training/matrix_engine.js";
import { ProjectionHead } from "../../src/training/projection_head.js";
import { seededRandom } from "../../src/training/random.js";

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
    for (const engine of [exactEngine, onnxEngine]) expect(Array.from(await engine.multiply(a, b, 2, 3, 2))).toEqual([4, 5, 10, 11]);
    expect(Array.from(transpose(a, 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(onnxEngine.adopt(a)).toBeInstanceOf(Float32Array);
    expect(exactEngine.adopt(a)).toBe(a);
  });

  for (const [m, k, n] of [[1, 512, 512], [64, 512, 512], [512, 64, 512], [7, 13, 3]]) {
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
    const head = ProjectionHead.initialised({ kind: "mlp", inputDim: 96, hiddenDim: 80, outputDim: 48 }, seededRandom(1));
    const x = randomMatrix(40 * 96, seededRandom(2));
    const dz = randomMatrix(40 * 48, seededRandom(3));
    const [exact, fast] = [await head.forward(x, 40, exactEngine), await head.forward(x, 40, onnxEngine)];
    expect(relativeError(fast.z, exact.z)).toBeLessThan(1e-5);
    const [exactGrad, fastGrad] = [await head.backward(exact, dz), await head.backward(fast, dz)];
    expect(relativeError(fastGrad, exactGrad)).toBeLessThan(1e-4);
    expect(exactGrad.some((g) => g !== 0)).toBe(true);
  });
});
