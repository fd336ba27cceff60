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

/** out[r] = W · in[r] + b */
function affine(input: Float64Array, n: number, layer: { weight: Float64Array; bias: Float64Array; inputs: number; outputs: number }): Float64Array {
  const { weight, bias, inputs, outputs } = layer;
  const out = new Float64Array(n * outputs);
  for (let r = 0; r < n; r++) {
    const row = r * inputs;
    for (let o = 0; o < outputs; o++) {
      let s = bias[o];
      const w = o * inputs;
      for (let i = 0; i < inputs; i++) s += weight[w + i] * input[row + i];
      out[r * outputs + o] = s;
    }
  }
  return out;
}

/** Accumulates dW and db into `grad`; returns d(input) unless told not to. */
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
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outputs; o++) {
      const g = dOut[r * outputs + o];
      if (g === 0) continue;
      grad.bias[o] += g;
      const w = o * inputs;
      const row = r * inputs;
      for (let i = 0; i < inputs; i++) {
        grad.weight[w + i] += g * input[row + i];
        if (wantInput) dInput[row + i] += g * weight[w + i];
      }
    }
  }
  return dInput;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
}
