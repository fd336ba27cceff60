/**
 * Matrix products for projection heads: nearly all the work of training one. Two engines:
 * - `onnxEngine`: float32 through onnxruntime's MatMul (its MLAS kernels, via
 *   transformers.js's `matmul` op). About 35 GFLOP/s on one core of this project's CI
 *   machine, against about 3 for the best scalar JavaScript loop, so training uses it.
 * - `exactEngine`: float64 in plain JavaScript, on any thread. The reference the
 *   gradient tests check, and what applies a head to fresh embeddings on the main thread.
 */
import { loadTransformers } from "../utils/imports.js";

export type Floats = Float32Array | Float64Array;

export interface MatrixEngine {
  readonly name: "onnx" | "exact";
  /** `values` as the float type this engine computes in (the same array when it already is). */
  adopt(values: Floats): Floats;
  /** C (m × n) = A (m × k) · B (k × n), all row-major. */
  multiply(a: Floats, b: Floats, m: number, k: number, n: number): Promise<Floats>;
}

export const exactEngine: MatrixEngine = {
  name: "exact",
  adopt: (values) => (values instanceof Float64Array ? values : Float64Array.from(values)),
  multiply: async (a, b, m, k, n) => multiplyExact(a, b, m, k, n),
};

export const onnxEngine: MatrixEngine = {
  name: "onnx",
  adopt: (values) => (values instanceof Float32Array ? values : Float32Array.from(values)),
  async multiply(a, b, m, k, n) {
    const { matmul, Tensor } = await loadTransformers();
    const product = await matmul(
      new Tensor("float32", onnxEngine.adopt(a), [m, k]),
      new Tensor("float32", onnxEngine.adopt(b), [k, n]),
    );
    return product.data as Float32Array;
  },
};

/** Row by row, so the innermost loop walks B and C contiguously. */
function multiplyExact(a: Floats, b: Floats, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const from = p * n;
      for (let j = 0; j < n; j++) c[row + j] += aip * b[from + j];
    }
  }
  return c;
}

/** A new zero-filled array of `model`'s float type: each step of training stays in its parameters' precision. */
export function zerosLike<T extends Floats>(model: T, length = model.length): T {
  return new (model.constructor as new (length: number) => T)(length);
}

/** The transpose of a row-major `rows × cols` matrix, in the same float type. */
export function transpose<T extends Floats>(values: T, rows: number, cols: number): T {
  const out = zerosLike(values);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
