/**
 * Trains a projection head over frozen embeddings (computed once by the caller), with
 * triplet loss or InfoNCE, Adam, mini-batches, a seeded generator, and early stopping
 * on a held-out validation split. Parameters, losses and the optimiser are TypeScript
 * over Float32Arrays (the precision the head is stored in, and what onnxruntime takes
 * without a copy); the matrix products run on onnxruntime (matrix_engine.ts).
 *
 * Data comes in one of three forms:
 * - `examples` with class labels (a folder per class): triplets are mined in each batch
 *   (batch-hard by default); InfoNCE pairs two examples of each class in the batch.
 * - `pairs` (e.g. an image and its caption, or two photos of one product): InfoNCE.
 * - `triplets` (anchor, positive, negative): triplet loss.
 */
import type { InferenceThread } from "../models/towers.js";
import { JobWorker, transferable } from "../runtime/job_worker.js";
import { Adam } from "./adam.js";
import {
  batchHardTriplets,
  distancesFromGram,
  infoNceLoss,
  tripletLoss,
  type LossResult,
  type Triplet,
  type TripletDistance,
} from "./losses.js";
import {
  exactEngine,
  onnxEngine,
  transpose,
  zerosLike,
  type Floats,
  type MatrixEngine,
} from "../heads/matrix_engine.js";
import { ProjectionHead, type HeadKind, type HeadShape } from "../heads/projection_head.js";
import { seededRandom, shuffled } from "../heads/random.js";

export type TrainingLoss =
  | { type: "triplet"; margin?: number; distance?: TripletDistance; mining?: "batch-hard" | "random" }
  | { type: "infonce"; temperature?: number; symmetric?: boolean };

export type TrainingData =
  | { examples: { vector: ArrayLike<number>; label: string | number }[] }
  | { pairs: { a: ArrayLike<number>; b: ArrayLike<number> }[] }
  | { triplets: { anchor: ArrayLike<number>; positive: ArrayLike<number>; negative: ArrayLike<number> }[] };

export interface TrainProjectionHeadOptions {
  data: TrainingData;
  loss: TrainingLoss;
  head?: { kind?: HeadKind; hiddenDim?: number; outputDim?: number };
  /** Default: 100. Training usually stops earlier (see `patience`). */
  epochs?: number;
  /** Rows per step. Default: 64. */
  batchSize?: number;
  /** Adam's step size. Default: 1e-3. */
  learningRate?: number;
  /** Every random choice (split, init, batches) follows it. Default: 0. */
  seed?: number;
  /** Share of the data held out to pick the best epoch. Default: 0.2. */
  validationFraction?: number;
  /** Stop after this many epochs without a better validation score. Default: 8. */
  patience?: number;
  /**
   * The thread that trains: `"worker"`, the process's training worker
   * (training_worker.ts), which keeps the caller's event loop free, or `"main"`, this thread.
   * Default: `"worker"`.
   */
  inference?: InferenceThread;
  onEpoch?: (stats: EpochStats) => void;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  /** recall@1 (examples, pairs) or the share of satisfied triplets, on the validation split. */
  validation: number;
}

export interface TrainedHead {
  head: ProjectionHead;
  /** The validation score of the frozen embeddings, before any head. */
  baseline: number;
  /** The validation score of the returned head (its best epoch). */
  validation: number;
  bestEpoch: number;
  history: EpochStats[];
  /** Wall time, including handing the data to the worker. */
  seconds: number;
  /** The thread that trained. */
  thread: InferenceThread;
}

/**
 * Everything a training run needs, checked and packed into flat arrays on the caller's
 * thread: cheap to hand to the worker, and bad data fails before any work starts.
 */
export interface TrainingJob {
  data: PackedData;
  loss: TrainingLoss;
  head: { kind: HeadKind; hiddenDim?: number; outputDim: number };
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  validationFraction: number;
  patience: number;
}

/** What a run returns across threads: the head as its shape and parameters. */
export type TrainingOutcome = Omit<TrainedHead, "head" | "seconds" | "thread"> & {
  shape: Required<HeadShape>;
  params: Float64Array;
};

type PackedData =
  | { kind: "examples"; dimension: number; vectors: Float32Array; labels: number[] }
  | { kind: "pairs"; dimension: number; a: Float32Array; b: Float32Array }
  /** anchor, positive and negative rows in turn. */
  | { kind: "triplets"; dimension: number; rows: Float32Array };

export async function trainProjectionHead(options: TrainProjectionHeadOptions): Promise<TrainedHead> {
  const started = performance.now();
  const job = packTrainingJob(options);
  const thread = options.inference ?? "worker";
  if (thread !== "worker" && thread !== "main")
    throw new TypeError(`Expected "worker" or "main" for inference but received ${JSON.stringify(options.inference)}`);
  let outcome: TrainingOutcome;
  if (thread === "worker") {
    outcome = await trainInWorker(job, options.onEpoch);
  } else {
    outcome = await runTrainingJob(job, onnxEngine, options.onEpoch);
  }
  const { shape, params, ...scores } = outcome;
  return { head: new ProjectionHead(shape, params), ...scores, seconds: (performance.now() - started) / 1000, thread };
}

let trainingWorker: JobWorker | undefined;

/** Trains in the process's training worker, started on first use; the data's buffers are moved there, not copied. */
function trainInWorker(job: TrainingJob, onEpoch?: (stats: EpochStats) => void): Promise<TrainingOutcome> {
  trainingWorker ??= new JobWorker(
    {
      name: "training_worker",
      source: new URL("./training_worker.ts", import.meta.url).href,
      hint: 'pass inference: "main" to train on this thread',
    },
    { label: "training worker", afterDeath: "restart the process to train again" },
  );
  const buffers = Object.values(job.data).flatMap((value) =>
    value instanceof Float32Array ? transferable(value) : [],
  );
  return trainingWorker.request<TrainingOutcome>("train", job, {
    transfer: buffers,
    onEvent: onEpoch && ((stats) => onEpoch(stats as EpochStats)),
  });
}

/** The training loop, on the calling thread or in the training worker (training_worker.ts). */
export async function runTrainingJob(
  job: TrainingJob,
  engine: MatrixEngine,
  onEpoch?: (stats: EpochStats) => void,
): Promise<TrainingOutcome> {
  const random = seededRandom(job.seed);
  const task = makeTask(job.data, job.loss, job.validationFraction, random);
  const d = task.dimension;
  const { kind } = job.head;
  const shape = {
    kind,
    inputDim: d,
    hiddenDim: kind === "mlp" ? (job.head.hiddenDim ?? d) : undefined,
    outputDim: job.head.outputDim,
  };
  const head = ProjectionHead.initialised(shape, random, Float32Array);
  const adam = new Adam(head.params, job.learningRate);

  const baseline = await task.validate(async (rows) => rows, engine);
  let best = { validation: -Infinity, epoch: 0, params: head.params.slice() };
  const history: EpochStats[] = [];
  for (let epoch = 1; epoch <= job.epochs; epoch++) {
    let lossSum = 0;
    let steps = 0;
    for (const batch of task.batches(job.batchSize, random)) {
      const cache = await head.forward(batch.x, batch.n, engine);
      const { loss, grad } = await batch.loss(cache.z, head.shape.outputDim, engine);
      adam.update(await head.backward(cache, grad));
      lossSum += loss;
      steps++;
    }
    const validation = await task.validate(async (rows, n) => (await head.forward(rows, n, engine)).z, engine);
    const stats = { epoch, loss: lossSum / Math.max(steps, 1), validation };
    history.push(stats);
    onEpoch?.(stats);
    if (validation > best.validation) best = { validation, epoch, params: head.params.slice() };
    else if (epoch - best.epoch >= job.patience) break;
    await new Promise((resolve) => setImmediate(resolve)); // let the event loop breathe between epochs
  }
  // Trained in float32, the precision heads are stored in: the returned head and a saved copy agree exactly.
  return {
    shape: head.shape,
    params: Float64Array.from(best.params),
    baseline,
    validation: best.validation,
    bestEpoch: best.epoch,
    history,
  };
}

function packTrainingJob(options: TrainProjectionHeadOptions): TrainingJob {
  const { data, loss } = options;
  const validationFraction = options.validationFraction ?? 0.2;
  if (!(validationFraction > 0 && validationFraction < 1))
    throw new RangeError(`validationFraction must be between 0 and 1, got ${validationFraction}`);
  const kind = options.head?.kind ?? "mlp";
  const job = (packed: PackedData): TrainingJob => ({
    data: packed,
    loss,
    head: { kind, hiddenDim: options.head?.hiddenDim, outputDim: options.head?.outputDim ?? packed.dimension },
    epochs: checkInteger("epochs", options.epochs ?? 100, 1),
    batchSize: checkInteger("batchSize", options.batchSize ?? 64, 2),
    learningRate: options.learningRate ?? 1e-3,
    seed: options.seed ?? 0,
    validationFraction,
    patience: checkInteger("patience", options.patience ?? 8, 1),
  });
  if ("examples" in data) {
    const vectors = data.examples.map((e) => e.vector);
    const dimension = dimensionOf(vectors);
    const labelIds = new Map<string | number, number>();
    const labels = data.examples.map(
      (e) => labelIds.get(e.label) ?? labelIds.set(e.label, labelIds.size).get(e.label)!,
    );
    return job({ kind: "examples", dimension, vectors: flatten(vectors, dimension), labels });
  }
  if ("pairs" in data) {
    if (loss.type !== "infonce")
      throw new TypeError("pairs train with the infonce loss; use triplets or labelled examples for triplet loss");
    const dimension = dimensionOf([...data.pairs.map((p) => p.a), ...data.pairs.map((p) => p.b)]);
    return job({
      kind: "pairs",
      dimension,
      a: flatten(
        data.pairs.map((p) => p.a),
        dimension,
      ),
      b: flatten(
        data.pairs.map((p) => p.b),
        dimension,
      ),
    });
  }
  if ("triplets" in data) {
    if (loss.type !== "triplet") throw new TypeError("triplets train with the triplet loss");
    const rows = data.triplets.flatMap((t) => [t.anchor, t.positive, t.negative]);
    const dimension = dimensionOf(rows);
    return job({ kind: "triplets", dimension, rows: flatten(rows, dimension) });
  }
  throw new TypeError("Expected data with examples, pairs or triplets");
}

/** The most validation rows scored each epoch (recall@1 is quadratic in them). */
const VALIDATION_SCORED = 1000;

interface Batch {
  x: Float32Array;
  n: number;
  loss: (
    z: Float32Array,
    d: number,
    engine: MatrixEngine,
  ) => LossResult<Float32Array> | Promise<LossResult<Float32Array>>;
}

type Projection = (rows: Float32Array, n: number) => Promise<Floats>;

interface Task {
  dimension: number;
  batches(size: number, random: () => number): Iterable<Batch>;
  /** The validation score with `project` applied to the validation rows. */
  validate(project: Projection, engine: MatrixEngine): Promise<number>;
}

function makeTask(data: PackedData, loss: TrainingLoss, validationFraction: number, random: () => number): Task {
  switch (data.kind) {
    case "examples":
      return labelledTask(data, loss, validationFraction, random);
    case "pairs":
      return pairTask(data, loss as { temperature?: number; symmetric?: boolean }, validationFraction, random);
    case "triplets":
      return tripletTask(data, loss as { margin?: number; distance?: TripletDistance }, validationFraction, random);
  }
}

function labelledTask(
  { dimension: d, vectors, labels }: { dimension: number; vectors: Float32Array; labels: number[] },
  loss: TrainingLoss,
  fraction: number,
  random: () => number,
): Task {
  const order = shuffled(range(labels.length), random);
  const validationCount = Math.max(2, Math.round(labels.length * fraction));
  const validation = order.slice(0, validationCount);
  const train = order.slice(validationCount);
  // recall@1 compares every pair: score at most VALIDATION_SCORED rows (a random subset) per epoch.
  const scored = validation.slice(0, VALIDATION_SCORED);
  const validationRows = gatherRows(vectors, d, scored);
  const validationLabels = scored.map((i) => labels[i]);
  const byClass = new Map<number, number[]>();
  for (const i of train) byClass.set(labels[i], [...(byClass.get(labels[i]) ?? []), i]);
  const classes = [...byClass.keys()].filter((c) => byClass.get(c)!.length >= 2);
  if (classes.length < 2)
    throw new RangeError("training needs at least two classes with two or more training examples each");

  return {
    dimension: d,
    *batches(size, rnd) {
      // P classes × K examples each, so every anchor has positives and negatives in its batch.
      const perClass = loss.type === "infonce" ? 2 : 4;
      const classesPerBatch = Math.max(2, Math.min(classes.length, Math.floor(size / perClass)));
      const steps = Math.max(1, Math.ceil(train.length / (classesPerBatch * perClass)));
      for (let s = 0; s < steps; s++) {
        const picked = shuffled(classes, rnd).slice(0, classesPerBatch);
        const members = picked.map((c) => shuffled(byClass.get(c)!, rnd).slice(0, perClass));
        if (loss.type === "infonce") {
          // Rows 0..P-1 and P..2P-1: two different examples of each class.
          const rows = [...members.map((m) => m[0]), ...members.map((m) => m[1])];
          const temperature = loss.temperature ?? 0.1;
          yield {
            x: gatherRows(vectors, d, rows),
            n: rows.length,
            loss: (z, dz) => infoNceLoss(z, dz, picked.length, temperature, loss.symmetric ?? true),
          };
        } else {
          const rows = members.flat();
          const batchLabels = rows.map((i) => labels[i]);
          const margin = loss.margin ?? 0.2;
          const distance = loss.distance ?? "cosine";
          const n = rows.length;
          const mine = async (z: Float32Array, dz: number, engine: MatrixEngine) => {
            if (loss.mining === "random") return randomTriplets(batchLabels, rnd);
            const gram = await engine.multiply(z, transpose(z, n, dz), n, dz, n);
            return batchHardTriplets(z, dz, batchLabels, distance, distancesFromGram(gram, n, distance));
          };
          yield {
            x: gatherRows(vectors, d, rows),
            n,
            loss: async (z, dz, engine) => tripletLoss(z, dz, await mine(z, dz, engine), margin, distance),
          };
        }
      }
    },
    validate: async (project, engine) =>
      recallAt1(await project(validationRows, scored.length), validationLabels, engine),
  };
}

function pairTask(
  { dimension: d, a, b }: { dimension: number; a: Float32Array; b: Float32Array },
  loss: { temperature?: number; symmetric?: boolean },
  fraction: number,
  random: () => number,
): Task {
  const count = a.length / d;
  const order = shuffled(range(count), random);
  const validationCount = Math.max(2, Math.round(count * fraction));
  const validation = order.slice(0, validationCount).slice(0, VALIDATION_SCORED);
  const train = order.slice(validationCount);
  const stack = (ids: number[]) => {
    const x = new Float32Array(2 * ids.length * d);
    x.set(gatherRows(a, d, ids));
    x.set(gatherRows(b, d, ids), ids.length * d);
    return x;
  };
  const validationRows = stack(validation);
  return {
    dimension: d,
    *batches(size, rnd) {
      const order = shuffled(train, rnd);
      const per = Math.max(2, Math.floor(size / 2));
      for (let s = 0; s + 2 <= order.length; s += per) {
        const ids = order.slice(s, s + per);
        if (ids.length < 2) break;
        yield {
          x: stack(ids),
          n: 2 * ids.length,
          loss: (z, dz) => infoNceLoss(z, dz, ids.length, loss.temperature ?? 0.1, loss.symmetric ?? true),
        };
      }
    },
    validate: async (project, engine) => {
      // A hit: the nearest of all b rows to a[i] is b[i].
      const n = validation.length;
      const z = await project(validationRows, 2 * n);
      const dz = z.length / (2 * n);
      const similarity = await cosineSimilarities(z.subarray(0, n * dz), z.subarray(n * dz), n, n, dz, engine);
      let hits = 0;
      for (let i = 0; i < n; i++) if (argmax(similarity, i * n, n, -1) === i) hits++;
      return hits / n;
    },
  };
}

function tripletTask(
  { dimension: d, rows }: { dimension: number; rows: Float32Array },
  loss: { margin?: number; distance?: TripletDistance },
  fraction: number,
  random: () => number,
): Task {
  const count = rows.length / (3 * d);
  const order = shuffled(range(count), random);
  const validationCount = Math.max(1, Math.round(count * fraction));
  const validation = order.slice(0, validationCount);
  const train = order.slice(validationCount);
  const rowsOf = (ids: number[]) =>
    gatherRows(
      rows,
      d,
      ids.flatMap((t) => [3 * t, 3 * t + 1, 3 * t + 2]),
    );
  const local = (count: number): Triplet[] => Array.from({ length: count }, (_, i) => [3 * i, 3 * i + 1, 3 * i + 2]);
  const validationRows = rowsOf(validation);
  const distance = loss.distance ?? "cosine";
  return {
    dimension: d,
    *batches(size, rnd) {
      const order = shuffled(train, rnd);
      const per = Math.max(1, Math.floor(size / 3));
      for (let s = 0; s < order.length; s += per) {
        const ids = order.slice(s, s + per);
        yield {
          x: rowsOf(ids),
          n: 3 * ids.length,
          loss: (z, dz) => tripletLoss(z, dz, local(ids.length), loss.margin ?? 0.2, distance),
        };
      }
    },
    validate: async (project) => {
      const z = await project(validationRows, 3 * validation.length);
      const dz = z.length / (3 * validation.length);
      let satisfied = 0;
      for (const [a, p, n] of local(validation.length)) if (cosine(z, dz, a, p) > cosine(z, dz, a, n)) satisfied++;
      return satisfied / validation.length;
    },
  };
}

/** Leave-one-out: the share of rows whose most similar other row (by cosine) has their label. */
export async function recallAt1(rows: Floats, labels: number[], engine: MatrixEngine = exactEngine): Promise<number> {
  const n = labels.length;
  const d = rows.length / n;
  const similarity = await cosineSimilarities(rows, rows, n, n, d, engine);
  let hits = 0;
  for (let i = 0; i < n; i++) if (labels[argmax(similarity, i * n, n, i)] === labels[i]) hits++;
  return hits / n;
}

/** The m × n cosine similarities between the rows of `a` (m × d) and of `b` (n × d), as one matrix product. */
async function cosineSimilarities(
  a: Floats,
  b: Floats,
  m: number,
  n: number,
  d: number,
  engine: MatrixEngine,
): Promise<Floats> {
  return engine.multiply(unitRows(a, m, d), transpose(unitRows(b, n, d), n, d), m, d, n);
}

/** The rows scaled to unit length, in the same float type. */
function unitRows<T extends Floats>(rows: T, n: number, d: number): T {
  const out = zerosLike(rows, n * d);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += rows[r * d + k] ** 2;
    const scale = 1 / (Math.sqrt(s) || 1e-12);
    for (let k = 0; k < d; k++) out[r * d + k] = rows[r * d + k] * scale;
  }
  return out;
}

/** The column of the highest value in the row of `values` starting at `offset` (`length` wide), skipping column `skip`. */
function argmax(values: Floats, offset: number, length: number, skip: number): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let j = 0; j < length; j++) {
    if (j !== skip && values[offset + j] > bestScore) [bestScore, best] = [values[offset + j], j];
  }
  return best;
}

function cosine(rows: Floats, d: number, a: number, b: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < d; k++) {
    dot += rows[a * d + k] * rows[b * d + k];
    na += rows[a * d + k] ** 2;
    nb += rows[b * d + k] ** 2;
  }
  return dot / (Math.sqrt(na * nb) || 1e-12);
}

function randomTriplets(labels: number[], random: () => number): Triplet[] {
  const out: Triplet[] = [];
  labels.forEach((label, a) => {
    const positives = labels.flatMap((l, j) => (l === label && j !== a ? [j] : []));
    const negatives = labels.flatMap((l, j) => (l !== label ? [j] : []));
    if (positives.length && negatives.length) {
      out.push([
        a,
        positives[Math.floor(random() * positives.length)],
        negatives[Math.floor(random() * negatives.length)],
      ]);
    }
  });
  return out;
}

function dimensionOf(vectors: ArrayLike<number>[]): number {
  if (vectors.length === 0) throw new RangeError("no training data");
  const d = vectors[0].length;
  vectors.forEach((v, i) => {
    if (v.length !== d) throw new RangeError(`training vector ${i} has ${v.length} dimensions, not ${d}`);
  });
  return d;
}

function flatten(vectors: ArrayLike<number>[], d: number): Float32Array {
  const out = new Float32Array(vectors.length * d);
  vectors.forEach((v, i) => out.set(v, i * d));
  return out;
}

function gatherRows(flat: Float32Array, d: number, ids: number[]): Float32Array {
  const out = new Float32Array(ids.length * d);
  ids.forEach((id, i) => out.set(flat.subarray(id * d, (id + 1) * d), i * d));
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new TypeError(`Expected an integer >= ${min} for ${name} but received ${value}`);
  return value;
}
