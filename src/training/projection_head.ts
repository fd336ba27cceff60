/**
 * A projection head: a small network applied after a frozen encoder, trained so that
 * "similar" means what a catalogue's owner wants. Two shapes, as in the design notes:
 * `linear` (one Linear layer) and `mlp` (Linear → ReLU → Linear). The output is always
 * L2-normalised, so cosine search works unchanged.
 *
 * All parameters live in one Float64Array (training needs the precision and a single
 * buffer makes the optimiser trivial); `forward` keeps what `backward` needs.
 */
import { createHash } from "node:crypto";

export type HeadKind = "linear" | "mlp";

export interface HeadShape {
  kind: HeadKind;
  inputDim: number;
  /** mlp only: the width of the hidden layer. */
  hiddenDim?: number;
  outputDim: number;
}

/** What forward() remembers for backward(). */
export interface HeadCache {
  n: number;
  x: Float64Array;
  hidden?: Float64Array; // after ReLU (mlp)
  y: Float64Array; // before normalisation
  norms: Float64Array;
  z: Float64Array; // normalised output
}

export class ProjectionHead {
  readonly shape: Required<HeadShape>;
  /** Every weight and bias, in the order of `layers()`. */
  readonly params: Float64Array;

  constructor(shape: HeadShape, params?: Float64Array) {
    checkShape(shape);
    this.shape = { ...shape, hiddenDim: shape.kind === "mlp" ? shape.hiddenDim! : 0 };
    const count = ProjectionHead.parameterCount(this.shape);
    if (params && params.length !== count) throw new RangeError(`a ${describeShape(this.shape)} head has ${count} parameters, got ${params.length}`);
    this.params = params ?? new Float64Array(count);
  }

  static parameterCount(shape: HeadShape): number {
    const { kind, inputDim, hiddenDim = 0, outputDim } = shape;
    return kind === "linear" ? outputDim * inputDim + outputDim : hiddenDim * inputDim + hiddenDim + outputDim * hiddenDim + outputDim;
  }

  /** He-initialised weights and zero biases from a seeded generator. */
  static initialised(shape: HeadShape, random: () => number): ProjectionHead {
    const head = new ProjectionHead(shape);
    for (const layer of head.layers()) {
      const std = Math.sqrt(2 / layer.inputs);
      for (let i = 0; i < layer.weight.length; i++) layer.weight[i] = gaussian(random) * std;
    }
    return head;
  }

  /** Views into `params` ([W, b] per layer, W row-major `outputs × inputs`). */
  layers(params: Float64Array = this.params): { weight: Float64Array; bias: Float64Array; inputs: number; outputs: number }[] {
    const { kind, inputDim, hiddenDim, outputDim } = this.shape;
    const dims = kind === "linear" ? [[inputDim, outputDim]] : [[inputDim, hiddenDim], [hiddenDim, outputDim]];
    let offset = 0;
    return dims.map(([inputs, outputs]) => {
      const weight = params.subarray(offset, (offset += inputs * outputs));
      const bias = params.subarray(offset, (offset += outputs));
      return { weight, bias, inputs, outputs };
    });
  }

  /** Applies the head to `n` rows of `x` (row-major), returning unit-length rows and the cache for backward. */
  forward(x: Float64Array, n: number): HeadCache {
    const [first, second] = this.layers();
    let hidden: Float64Array | undefined;
    let y = affine(x, n, first);
    if (second) {
      hidden = y.map((v) => (v > 0 ? v : 0));
      y = affine(hidden, n, second);
    }
    const d = this.shape.outputDim;
    const norms = new Float64Array(n);
    const z = new Float64Array(n * d);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += y[r * d + j] ** 2;
      norms[r] = Math.sqrt(s) || 1e-12;
      for (let j = 0; j < d; j++) z[r * d + j] = y[r * d + j] / norms[r];
    }
    return { n, x, hidden, y, norms, z };
  }

  /** The gradient of the loss with respect to `params`, given its gradient with respect to the output `z`. */
  backward(cache: HeadCache, dz: Float64Array): Float64Array {
    const { n, x, hidden, norms, z } = cache;
    const d = this.shape.outputDim;
    // Through the normalisation z = y/|y|: dy = (dz − z (z·dz)) / |y|.
    const dy = new Float64Array(n * d);
    for (let r = 0; r < n; r++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += z[r * d + j] * dz[r * d + j];
      for (let j = 0; j < d; j++) dy[r * d + j] = (dz[r * d + j] - z[r * d + j] * dot) / norms[r];
    }
    const grad = new Float64Array(this.params.length);
    const layers = this.layers();
    const gradLayers = this.layers(grad);
    if (layers.length === 1) {
      affineBackward(x, n, dy, layers[0], gradLayers[0]);
    } else {
      const dHidden = affineBackward(hidden!, n, dy, layers[1], gradLayers[1]);
      for (let i = 0; i < dHidden.length; i++) if (hidden![i] <= 0) dHidden[i] = 0;
      affineBackward(x, n, dHidden, layers[0], gradLayers[0], false);
    }
    return grad;
  }

  /** One vector through the head (float64 maths), unit length. */
  apply(vector: ArrayLike<number>): number[] {
    if (vector.length !== this.shape.inputDim) {
      throw new RangeError(`the head takes ${this.shape.inputDim}-d vectors but got ${vector.length}-d`);
    }
    return Array.from(this.forward(Float64Array.from(vector), 1).z);
  }

  /** A content id: the same weights always give the same id (recorded in store manifests). */
  get id(): string {
    const hash = createHash("sha256").update(describeShape(this.shape)).update(new Uint8Array(Float32Array.from(this.params).buffer));
    return `${this.shape.kind}-${this.shape.inputDim}-${this.shape.outputDim}-${hash.digest("hex").slice(0, 16)}`;
  }
}

export function describeShape(shape: HeadShape): string {
  return shape.kind === "linear" ? `linear ${shape.inputDim}→${shape.outputDim}` : `mlp ${shape.inputDim}→${shape.hiddenDim}→${shape.outputDim}`;
}

function checkShape(shape: HeadShape) {
  if (shape?.kind !== "linear" && shape?.kind !== "mlp") throw new TypeError(`Expected "linear" or "mlp" for kind but received ${JSON.stringify(shape?.kind)}`);
  const dims: [string, unknown][] = [["inputDim", shape.inputDim], ["outputDim", shape.outputDim]];
  if (shape.kind === "mlp") dims.push(["hiddenDim", shape.hiddenDim]);
  for (const [name, value] of dims) {
    if (!Number.isInteger(value) || (value as number) <= 0) throw new TypeError(`Expected positive integer for ${name} but received ${String(value)}`);
  }
}

/**
 * out[r] = W · in[r] + b, in 4 × 4 tiles (four outputs for four rows): each load of a
 * weight or an input feeds four multiply-adds, which is what bounds this loop in
 * scalar JavaScript. Edges that do not fill a tile take the plain path.
 */
function affine(input: Float64Array, n: number, layer: { weight: Float64Array; bias: Float64Array; inputs: number; outputs: number }): Float64Array {
  const { weight, bias, inputs, outputs } = layer;
  const out = new Float64Array(n * outputs);
  const n4 = n - (n % 4);
  const o4 = outputs - (outputs % 4);
  for (let o = 0; o < o4; o += 4) {
    const w0 = o * inputs;
    const w1 = w0 + inputs;
    const w2 = w1 + inputs;
    const w3 = w2 + inputs;
    for (let r = 0; r < n4; r += 4) {
      const x0 = r * inputs;
      const x1 = x0 + inputs;
      const x2 = x1 + inputs;
      const x3 = x2 + inputs;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let i = 0; i < inputs; i++) {
        const a0 = input[x0 + i], a1 = input[x1 + i], a2 = input[x2 + i], a3 = input[x3 + i];
        const b0 = weight[w0 + i], b1 = weight[w1 + i], b2 = weight[w2 + i], b3 = weight[w3 + i];
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
        s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
      }
      const rows = [[s00, s01, s02, s03], [s10, s11, s12, s13], [s20, s21, s22, s23], [s30, s31, s32, s33]];
      for (let dr = 0; dr < 4; dr++) for (let dq = 0; dq < 4; dq++) out[(r + dr) * outputs + o + dq] = rows[dr][dq] + bias[o + dq];
    }
  }
  // The edges: outputs past the last full tile for every row, and rows past it for the tiled outputs.
  for (let r = 0; r < n; r++) {
    for (let o = r < n4 ? o4 : 0; o < outputs; o++) {
      let s = bias[o];
      const x = r * inputs;
      const w = o * inputs;
      for (let i = 0; i < inputs; i++) s += weight[w + i] * input[x + i];
      out[r * outputs + o] = s;
    }
  }
  return out;
}

/**
 * Accumulates dW and db into `grad`; returns d(input) unless told not to:
 * dW[o] += Σ_r g[r,o] · in[r] and dIn[r] += Σ_o g[r,o] · W[o], in the same 4 × 4 tiles.
 */
function affineBackward(
  input: Float64Array,
  n: number,
  dOut: Float64Array,
  layer: { weight: Float64Array; inputs: number; outputs: number },
  grad: { weight: Float64Array; bias: Float64Array },
  wantInput = true,
): Float64Array {
  const { weight, inputs, outputs } = layer;
  const dInput = new Float64Array(wantInput ? n * inputs : 0);
  for (let r = 0; r < n; r++) for (let o = 0; o < outputs; o++) grad.bias[o] += dOut[r * outputs + o];
  const n4 = n - (n % 4);
  const o4 = outputs - (outputs % 4);
  for (let o = 0; o < o4; o += 4) {
    const w0 = o * inputs;
    const w1 = w0 + inputs;
    const w2 = w1 + inputs;
    const w3 = w2 + inputs;
    for (let r = 0; r < n4; r += 4) {
      const g = (dr: number, dq: number) => dOut[(r + dr) * outputs + o + dq];
      const g00 = g(0, 0), g01 = g(0, 1), g02 = g(0, 2), g03 = g(0, 3), g10 = g(1, 0), g11 = g(1, 1), g12 = g(1, 2), g13 = g(1, 3);
      const g20 = g(2, 0), g21 = g(2, 1), g22 = g(2, 2), g23 = g(2, 3), g30 = g(3, 0), g31 = g(3, 1), g32 = g(3, 2), g33 = g(3, 3);
      const x0 = r * inputs;
      const x1 = x0 + inputs;
      const x2 = x1 + inputs;
      const x3 = x2 + inputs;
      for (let i = 0; i < inputs; i++) {
        const a0 = input[x0 + i], a1 = input[x1 + i], a2 = input[x2 + i], a3 = input[x3 + i];
        grad.weight[w0 + i] += g00 * a0 + g10 * a1 + g20 * a2 + g30 * a3;
        grad.weight[w1 + i] += g01 * a0 + g11 * a1 + g21 * a2 + g31 * a3;
        grad.weight[w2 + i] += g02 * a0 + g12 * a1 + g22 * a2 + g32 * a3;
        grad.weight[w3 + i] += g03 * a0 + g13 * a1 + g23 * a2 + g33 * a3;
      }
      if (!wantInput) continue;
      for (let i = 0; i < inputs; i++) {
        const b0 = weight[w0 + i], b1 = weight[w1 + i], b2 = weight[w2 + i], b3 = weight[w3 + i];
        dInput[x0 + i] += g00 * b0 + g01 * b1 + g02 * b2 + g03 * b3;
        dInput[x1 + i] += g10 * b0 + g11 * b1 + g12 * b2 + g13 * b3;
        dInput[x2 + i] += g20 * b0 + g21 * b1 + g22 * b2 + g23 * b3;
        dInput[x3 + i] += g30 * b0 + g31 * b1 + g32 * b2 + g33 * b3;
      }
    }
  }
  // The edges, as in `affine`.
  for (let r = 0; r < n; r++) {
    for (let o = r < n4 ? o4 : 0; o < outputs; o++) {
      const gro = dOut[r * outputs + o];
      if (gro === 0) continue;
      const x = r * inputs;
      const w = o * inputs;
      for (let i = 0; i < inputs; i++) {
        grad.weight[w + i] += gro * input[x + i];
        if (wantInput) dInput[x + i] += gro * weight[w + i];
      }
    }
  }
  return dInput;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
}
