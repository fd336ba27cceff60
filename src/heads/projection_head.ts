/**
 * A projection head: a small network applied after a frozen encoder, trained so that
 * "similar" means what a catalogue's owner wants. Two shapes, as in the design notes:
 * `linear` (one Linear layer) and `mlp` (Linear → ReLU → Linear). The output is always
 * L2-normalised, so cosine search works unchanged.
 *
 * All parameters live in one typed array (a single buffer makes the optimiser trivial),
 * whose type sets the precision of every step: a Float64Array by default (exact, what the
 * gradient tests check), a Float32Array while training (no conversions on the way to
 * onnxruntime, half the memory traffic). `forward` and `backward` do their matrix
 * products on a `MatrixEngine`; `forward` keeps what `backward` needs.
 */
import { createHash } from "node:crypto";
import { exactEngine, transpose, zerosLike, type Floats, type MatrixEngine } from "./matrix_engine.js";
import { gaussian } from "./random.js";

export type HeadKind = "linear" | "mlp";

export interface HeadShape {
  kind: HeadKind;
  inputDim: number;
  /** mlp only: the width of the hidden layer. */
  hiddenDim?: number;
  outputDim: number;
}

/** What forward() remembers for backward(); arrays in the head's float type. */
export interface HeadCache<P extends Floats = Floats> {
  n: number;
  x: Floats;
  hidden?: P; // after ReLU (mlp)
  norms: Float64Array; // |y| before normalisation
  z: P; // normalised output
  engine: MatrixEngine;
  /** Each layer's weights in the engine's float type, converted once for forward and backward. */
  weights: Floats[];
}

export class ProjectionHead<P extends Floats = Float64Array> {
  readonly shape: Required<HeadShape>;
  /** Every weight and bias, in the order of `layers()`. */
  readonly params: P;

  constructor(shape: HeadShape, params?: P) {
    checkShape(shape);
    this.shape = { ...shape, hiddenDim: shape.kind === "mlp" ? shape.hiddenDim! : 0 };
    const count = ProjectionHead.parameterCount(this.shape);
    if (params && params.length !== count)
      throw new RangeError(`a ${describeShape(this.shape)} head has ${count} parameters, got ${params.length}`);
    this.params = params ?? (new Float64Array(count) as P);
  }

  static parameterCount(shape: HeadShape): number {
    const { kind, inputDim, hiddenDim = 0, outputDim } = shape;
    return kind === "linear"
      ? outputDim * inputDim + outputDim
      : hiddenDim * inputDim + hiddenDim + outputDim * hiddenDim + outputDim;
  }

  /** He-initialised weights and zero biases from a seeded generator, in float64 or (`Float32Array`) float32. */
  static initialised(shape: HeadShape, random: () => number): ProjectionHead;
  static initialised(
    shape: HeadShape,
    random: () => number,
    floats: Float32ArrayConstructor,
  ): ProjectionHead<Float32Array>;
  static initialised(
    shape: HeadShape,
    random: () => number,
    floats: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array,
  ): ProjectionHead<Floats> {
    const head = new ProjectionHead<Floats>(shape, new floats(ProjectionHead.parameterCount(shape)));
    for (const layer of head.layers()) {
      const std = Math.sqrt(2 / layer.inputs);
      for (let i = 0; i < layer.weight.length; i++) layer.weight[i] = gaussian(random) * std;
    }
    return head;
  }

  /** Views into `params` ([W, b] per layer, W row-major `outputs × inputs`). */
  layers(params: Floats = this.params): Layer[] {
    const { kind, inputDim, hiddenDim, outputDim } = this.shape;
    const dims =
      kind === "linear"
        ? [[inputDim, outputDim]]
        : [
            [inputDim, hiddenDim],
            [hiddenDim, outputDim],
          ];
    let offset = 0;
    return dims.map(([inputs, outputs]) => {
      const weight = params.subarray(offset, (offset += inputs * outputs));
      const bias = params.subarray(offset, (offset += outputs));
      return { weight, bias, inputs, outputs };
    });
  }

  /** Applies the head to `n` rows of `x` (row-major), returning unit-length rows and the cache for backward. */
  async forward(x: Floats, n: number, engine: MatrixEngine = exactEngine): Promise<HeadCache<P>> {
    const layers = this.layers();
    const weights = layers.map((layer) => engine.adopt(layer.weight));
    let hidden: P | undefined;
    let y = await affine(engine, x, n, layers[0], weights[0], this.params);
    if (layers[1]) {
      hidden = y;
      for (let i = 0; i < hidden.length; i++) if (hidden[i] < 0) hidden[i] = 0;
      y = await affine(engine, hidden, n, layers[1], weights[1], this.params);
    }
    const d = this.shape.outputDim;
    const norms = new Float64Array(n);
    const z = zerosLike(this.params, n * d);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += y[r * d + j] ** 2;
      norms[r] = Math.sqrt(s) || 1e-12;
      for (let j = 0; j < d; j++) z[r * d + j] = y[r * d + j] / norms[r];
    }
    return { n, x, hidden, norms, z, engine, weights };
  }

  /** The gradient of the loss with respect to `params`, given its gradient with respect to the output `z`. */
  async backward(cache: HeadCache<P>, dz: Floats): Promise<P> {
    const { n, x, hidden, norms, z, engine, weights } = cache;
    const d = this.shape.outputDim;
    // Through the normalisation z = y/|y|: dy = (dz − z (z·dz)) / |y|.
    const dy = zerosLike(this.params, n * d);
    for (let r = 0; r < n; r++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += z[r * d + j] * dz[r * d + j];
      for (let j = 0; j < d; j++) dy[r * d + j] = (dz[r * d + j] - z[r * d + j] * dot) / norms[r];
    }
    const grad = zerosLike(this.params);
    const layers = this.layers();
    const gradLayers = this.layers(grad);
    if (layers.length === 1) {
      await affineBackward(engine, x, n, dy, layers[0], weights[0], gradLayers[0]);
    } else {
      const dHidden = (await affineBackward(
        engine,
        hidden!,
        n,
        dy,
        layers[1],
        weights[1],
        gradLayers[1],
        this.params,
      ))!;
      for (let i = 0; i < dHidden.length; i++) if (hidden![i] <= 0) dHidden[i] = 0;
      await affineBackward(engine, x, n, dHidden, layers[0], weights[0], gradLayers[0]);
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
    const hash = createHash("sha256")
      .update(describeShape(this.shape))
      .update(new Uint8Array(Float32Array.from(this.params).buffer));
    return `${this.shape.kind}-${this.shape.inputDim}-${this.shape.outputDim}-${hash.digest("hex").slice(0, 16)}`;
  }
}

export function describeShape(shape: HeadShape): string {
  return shape.kind === "linear"
    ? `linear ${shape.inputDim}→${shape.outputDim}`
    : `mlp ${shape.inputDim}→${shape.hiddenDim}→${shape.outputDim}`;
}

function checkShape(shape: HeadShape) {
  if (shape?.kind !== "linear" && shape?.kind !== "mlp")
    throw new TypeError(`Expected "linear" or "mlp" for kind but received ${JSON.stringify(shape?.kind)}`);
  const dims: [string, unknown][] = [
    ["inputDim", shape.inputDim],
    ["outputDim", shape.outputDim],
  ];
  if (shape.kind === "mlp") dims.push(["hiddenDim", shape.hiddenDim]);
  for (const [name, value] of dims) {
    if (!Number.isInteger(value) || (value as number) <= 0)
      throw new TypeError(`Expected positive integer for ${name} but received ${String(value)}`);
  }
}

interface Layer {
  weight: Floats;
  bias: Floats;
  inputs: number;
  outputs: number;
}

/**
 * out = in · Wᵀ + b (in the float type of `model`), computed as (W · inᵀ)ᵀ: W stays in
 * its stored layout and only the batch-sized matrices are transposed.
 */
async function affine<T extends Floats>(
  engine: MatrixEngine,
  input: Floats,
  n: number,
  layer: Layer,
  weight: Floats,
  model: T,
): Promise<T> {
  const { bias, inputs, outputs } = layer;
  const product = await engine.multiply(weight, transpose(input, n, inputs), outputs, inputs, n); // outputs × n
  const out = zerosLike(model, n * outputs);
  for (let o = 0; o < outputs; o++) for (let r = 0; r < n; r++) out[r * outputs + o] = product[o * n + r] + bias[o];
  return out;
}

/**
 * Writes dW = dOutᵀ · in and db = Σ_r dOut[r] into `grad`; returns d(input) = dOut · W,
 * in the float type of `model`, when one is given.
 */
async function affineBackward<T extends Floats>(
  engine: MatrixEngine,
  input: Floats,
  n: number,
  dOut: Floats,
  layer: Layer,
  weight: Floats,
  grad: { weight: Floats; bias: Floats },
  model?: T,
): Promise<T | undefined> {
  const { inputs, outputs } = layer;
  for (let r = 0; r < n; r++) for (let o = 0; o < outputs; o++) grad.bias[o] += dOut[r * outputs + o];
  grad.weight.set(await engine.multiply(transpose(dOut, n, outputs), input, outputs, n, inputs));
  if (!model) return undefined;
  const dInput = await engine.multiply(dOut, weight, n, outputs, inputs);
  if (dInput.constructor === model.constructor) return dInput as T;
  const converted = zerosLike(model, dInput.length);
  converted.set(dInput);
  return converted;
}
