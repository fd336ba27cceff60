/**
 * A projection head: a small network applied after a frozen encoder, trained so that
 * "similar" means what a catalogue's owner wants. Two shapes, as in the design notes:
 * `linear` (one Linear layer) and `mlp` (Linear → ReLU → Linear). The output is always
 * L2-normalised, so cosine search works unchanged.
 *
 * All parameters live in one Float64Array (a single buffer makes the optimiser trivial).
 * `forward` and `backward` do their matrix products on a `MatrixEngine`: float32
 * onnxruntime for training, exact float64 JavaScript by default. `forward` keeps what
 * `backward` needs.
 */
import { createHash } from "node:crypto";
import { exactEngine, transpose, type Floats, type MatrixEngine } from "./matrix_engine.js";
import { gaussian } from "./random.js";

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
  norms: Float64Array; // |y| before normalisation
  z: Float64Array; // normalised output
  engine: MatrixEngine;
  /** Each layer's weights in the engine's float type, converted once for forward and backward. */
  weights: Floats[];
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
  layers(params: Float64Array = this.params): Layer[] {
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
  async forward(x: Float64Array, n: number, engine: MatrixEngine = exactEngine): Promise<HeadCache> {
    const layers = this.layers();
    const weights = layers.map((layer) => engine.adopt(layer.weight));
    let hidden: Float64Array | undefined;
    let y = await affine(engine, x, n, layers[0], weights[0]);
    if (layers[1]) {
      hidden = y.map((v) => (v > 0 ? v : 0));
      y = await affine(engine, hidden, n, layers[1], weights[1]);
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
    return { n, x, hidden, norms, z, engine, weights };
  }

  /** The gradient of the loss with respect to `params`, given its gradient with respect to the output `z`. */
  async backward(cache: HeadCache, dz: Float64Array): Promise<Float64Array> {
    const { n, x, hidden, norms, z, engine, weights } = cache;
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
      await affineBackward(engine, x, n, dy, layers[0], weights[0], gradLayers[0], false);
    } else {
      const dHidden = (await affineBackward(engine, hidden!, n, dy, layers[1], weights[1], gradLayers[1], true))!;
      for (let i = 0; i < dHidden.length; i++) if (hidden![i] <= 0) dHidden[i] = 0;
      await affineBackward(engine, x, n, dHidden, layers[0], weights[0], gradLayers[0], false);
    }
    return grad;
  }

  /** One vector through the head (float64 maths), unit length. */
  async apply(vector: ArrayLike<number>): Promise<number[]> {
    if (vector.length !== this.shape.inputDim) {
      throw new RangeError(`the head takes ${this.shape.inputDim}-d vectors but got ${vector.length}-d`);
    }
    return Array.from((await this.forward(Float64Array.from(vector), 1)).z);
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

interface Layer {
  weight: Float64Array;
  bias: Float64Array;
  inputs: number;
  outputs: number;
}

/**
 * out = in · Wᵀ + b, computed as (W · inᵀ)ᵀ: W stays in its stored layout and only the
 * batch-sized matrices are transposed.
 */
async function affine(engine: MatrixEngine, input: Float64Array, n: number, layer: Layer, weight: Floats): Promise<Float64Array> {
  const { bias, inputs, outputs } = layer;
  const product = await engine.multiply(weight, transpose(input, n, inputs), outputs, inputs, n); // outputs × n
  const out = new Float64Array(n * outputs);
  for (let o = 0; o < outputs; o++) for (let r = 0; r < n; r++) out[r * outputs + o] = product[o * n + r] + bias[o];
  return out;
}

/** Writes dW = dOutᵀ · in and db = Σ_r dOut[r] into `grad`; returns d(input) = dOut · W when asked. */
async function affineBackward(
  engine: MatrixEngine,
  input: Float64Array,
  n: number,
  dOut: Float64Array,
  layer: Layer,
  weight: Floats,
  grad: { weight: Float64Array; bias: Float64Array },
  wantInput: boolean,
): Promise<Float64Array | undefined> {
  const { inputs, outputs } = layer;
  for (let r = 0; r < n; r++) for (let o = 0; o < outputs; o++) grad.bias[o] += dOut[r * outputs + o];
  grad.weight.set(await engine.multiply(transpose(dOut, n, outputs), input, outputs, n, inputs));
  return wantInput ? Float64Array.from(await engine.multiply(dOut, weight, n, outputs, inputs)) : undefined;
}
