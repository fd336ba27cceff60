/**
 * Trains a projection head over frozen embeddings (computed once by the caller), with
 * triplet loss or InfoNCE, Adam, mini-batches, a seeded generator, and early stopping
 * on a held-out validation split. Pure TypeScript over Float64Arrays: no native code.
 *
 * Data comes in one of three forms:
 * - `examples` with class labels (a folder per class): triplets are mined in each batch
 *   (batch-hard by default); InfoNCE pairs two examples of each class in the batch.
 * - `pairs` (e.g. an image and its caption, or two photos of one product): InfoNCE.
 * - `triplets` (anchor, positive, negative): triplet loss.
 */
import { Adam } from "./adam.js";
import { batchHardTriplets, infoNceLoss, tripletLoss, type Triplet, type TripletDistance } from "./losses.js";
import { ProjectionHead, type HeadKind } from "./projection_head.js";
import { seededRandom, shuffled } from "./random.js";

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
  seconds: number;
}

export async function trainProjectionHead(options: TrainProjectionHeadOptions): Promise<TrainedHead> {
  const started = performance.now();
  const random = seededRandom(options.seed ?? 0);
  const task = makeTask(options.data, options.loss, options.validationFraction ?? 0.2, random);
  const d = task.dimension;
  const kind = options.head?.kind ?? "mlp";
  const head = ProjectionHead.initialised(
    { kind, inputDim: d, hiddenDim: kind === "mlp" ? options.head?.hiddenDim ?? d : undefined, outputDim: options.head?.outputDim ?? d },
    random,
  );
  const adam = new Adam(head.params, options.learningRate ?? 1e-3);
  const batchSize = checkInteger("batchSize", options.batchSize ?? 64, 2);
  const epochs = checkInteger("epochs", options.epochs ?? 100, 1);
  const patience = checkInteger("patience", options.patience ?? 8, 1);

  const baseline = task.validate((rows) => rows);
  let best = { validation: -Infinity, epoch: 0, params: head.params.slice() };
  const history: EpochStats[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let lossSum = 0;
    let steps = 0;
    for (const batch of task.batches(batchSize, random)) {
      const cache = head.forward(batch.x, batch.n);
      const { loss, grad } = batch.loss(cache.z, head.shape.outputDim);
      adam.update(head.backward(cache, grad));
      lossSum += loss;
      steps++;
    }
    const validation = task.validate((rows, n) => head.forward(rows, n).z);
    const stats = { epoch, loss: lossSum / Math.max(steps, 1), validation };
    history.push(stats);
    options.onEpoch?.(stats);
    if (validation > best.validation) best = { validation, epoch, params: head.params.slice() };
    else if (epoch - best.epoch >= patience) break;
    await new Promise((resolve) => setImmediate(resolve)); // let the event loop breathe between epochs
  }
  // Heads are stored as float32: round now, so the returned head and a saved copy agree exactly.
  head.params.set(Float32Array.from(best.params));
  return { head, baseline, validation: best.validation, bestEpoch: best.epoch, history, seconds: (performance.now() - started) / 1000 };
}

/** The most validation rows scored each epoch (recall@1 is quadratic in them). */
const VALIDATION_SCORED = 1000;

interface Batch {
  x: Float64Array;
  n: number;
  loss: (z: Float64Array, d: number) => { loss: number; grad: Float64Array };
}

interface Task {
  dimension: number;
  batches(size: number, random: () => number): Iterable<Batch>;
  /** The validation score with `project` applied to the validation rows. */
  validate(project: (rows: Float64Array, n: number) => Float64Array): number;
}

function makeTask(data: TrainingData, loss: TrainingLoss, validationFraction: number, random: () => number): Task {
  if (!(validationFraction > 0 && validationFraction < 1)) throw new RangeError(`validationFraction must be between 0 and 1, got ${validationFraction}`);
  if ("examples" in data) return labelledTask(data.examples, loss, validationFraction, random);
  if ("pairs" in data) {
    if (loss.type !== "infonce") throw new TypeError("pairs train with the infonce loss; use triplets or labelled examples for triplet loss");
    return pairTask(data.pairs, loss, validationFraction, random);
  }
  if ("triplets" in data) {
    if (loss.type !== "triplet") throw new TypeError("triplets train with the triplet loss");
    return tripletTask(data.triplets, loss, validationFraction, random);
  }
  throw new TypeError("Expected data with examples, pairs or triplets");
}

function labelledTask(examples: { vector: ArrayLike<number>; label: string | number }[], loss: TrainingLoss, fraction: number, random: () => number): Task {
  const d = dimensionOf(examples.map((e) => e.vector));
  const labelIds = new Map<string | number, number>();
  const labels = examples.map((e) => labelIds.get(e.label) ?? labelIds.set(e.label, labelIds.size).get(e.label)!);
  const order = shuffled(range(examples.length), random);
  const validationCount = Math.max(2, Math.round(examples.length * fraction));
  const validation = order.slice(0, validationCount);
  const train = order.slice(validationCount);
  const vectors = flatten(examples.map((e) => e.vector), d);
  // recall@1 compares every pair: score at most VALIDATION_SCORED rows (a random subset) per epoch.
  const scored = validation.slice(0, VALIDATION_SCORED);
  const validationRows = gatherRows(vectors, d, scored);
  const validationLabels = scored.map((i) => labels[i]);
  const byClass = new Map<number, number[]>();
  for (const i of train) byClass.set(labels[i], [...(byClass.get(labels[i]) ?? []), i]);
  const classes = [...byClass.keys()].filter((c) => byClass.get(c)!.length >= 2);
  if (classes.length < 2) throw new RangeError("training needs at least two classes with two or more training examples each");

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
          yield { x: gatherRows(vectors, d, rows), n: rows.length, loss: (z, dz) => infoNceLoss(z, dz, picked.length, temperature, loss.symmetric ?? true) };
        } else {
          const rows = members.flat();
          const batchLabels = rows.map((i) => labels[i]);
          const margin = loss.margin ?? 0.2;
          const distance = loss.distance ?? "cosine";
          yield {
            x: gatherRows(vectors, d, rows),
            n: rows.length,
            loss: (z, dz) => tripletLoss(z, dz, loss.mining === "random" ? randomTriplets(batchLabels, rnd) : batchHardTriplets(z, dz, batchLabels, distance), margin, distance),
          };
        }
      }
    },
    validate: (project) => recallAt1(project(validationRows, scored.length), validationLabels),
  };
}

function pairTask(pairs: { a: ArrayLike<number>; b: ArrayLike<number> }[], loss: { temperature?: number; symmetric?: boolean }, fraction: number, random: () => number): Task {
  const d = dimensionOf([...pairs.map((p) => p.a), ...pairs.map((p) => p.b)]);
  const order = shuffled(range(pairs.length), random);
  const validationCount = Math.max(2, Math.round(pairs.length * fraction));
  const validation = order.slice(0, validationCount).slice(0, VALIDATION_SCORED);
  const train = order.slice(validationCount);
  const a = flatten(pairs.map((p) => p.a), d);
  const b = flatten(pairs.map((p) => p.b), d);
  const stack = (ids: number[]) => {
    const x = new Float64Array(2 * ids.length * d);
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
        yield { x: stack(ids), n: 2 * ids.length, loss: (z, dz) => infoNceLoss(z, dz, ids.length, loss.temperature ?? 0.1, loss.symmetric ?? true) };
      }
    },
    validate: (project) => {
      const n = validation.length;
      const z = project(validationRows, 2 * n);
      let hits = 0;
      const dz = z.length / (2 * n);
      for (let i = 0; i < n; i++) if (nearest(z, dz, i, n, 2 * n) === n + i) hits++;
      return hits / n;
    },
  };
}

function tripletTask(
  triplets: { anchor: ArrayLike<number>; positive: ArrayLike<number>; negative: ArrayLike<number> }[],
  loss: { margin?: number; distance?: TripletDistance },
  fraction: number,
  random: () => number,
): Task {
  const d = dimensionOf(triplets.flatMap((t) => [t.anchor, t.positive, t.negative]));
  const rows = flatten(triplets.flatMap((t) => [t.anchor, t.positive, t.negative]), d);
  const order = shuffled(range(triplets.length), random);
  const validationCount = Math.max(1, Math.round(triplets.length * fraction));
  const validation = order.slice(0, validationCount);
  const train = order.slice(validationCount);
  const rowsOf = (ids: number[]) => gatherRows(rows, d, ids.flatMap((t) => [3 * t, 3 * t + 1, 3 * t + 2]));
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
        yield { x: rowsOf(ids), n: 3 * ids.length, loss: (z, dz) => tripletLoss(z, dz, local(ids.length), loss.margin ?? 0.2, distance) };
      }
    },
    validate: (project) => {
      const z = project(validationRows, 3 * validation.length);
      const dz = z.length / (3 * validation.length);
      let satisfied = 0;
      for (const [a, p, n] of local(validation.length)) if (cosine(z, dz, a, p) > cosine(z, dz, a, n)) satisfied++;
      return satisfied / validation.length;
    },
  };
}

/** Leave-one-out: the share of rows whose most similar other row has their label. */
export function recallAt1(rows: Float64Array, labels: number[]): number {
  const n = labels.length;
  const d = rows.length / n;
  let hits = 0;
  for (let i = 0; i < n; i++) if (labels[nearest(rows, d, i, 0, n)] === labels[i]) hits++;
  return hits / n;
}

/** The row in [from, to) other than `row` with the highest cosine similarity to it. */
function nearest(rows: Float64Array, d: number, row: number, from: number, to: number): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let j = from; j < to; j++) {
    if (j === row) continue;
    const score = cosine(rows, d, row, j);
    if (score > bestScore) [bestScore, best] = [score, j];
  }
  return best;
}

function cosine(rows: Float64Array, d: number, a: number, b: number): number {
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
      out.push([a, positives[Math.floor(random() * positives.length)], negatives[Math.floor(random() * negatives.length)]]);
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

function flatten(vectors: ArrayLike<number>[], d: number): Float64Array {
  const out = new Float64Array(vectors.length * d);
  vectors.forEach((v, i) => out.set(Array.from(v), i * d));
  return out;
}

function gatherRows(flat: Float64Array, d: number, ids: number[]): Float64Array {
  const out = new Float64Array(ids.length * d);
  ids.forEach((id, i) => out.set(flat.subarray(id * d, (id + 1) * d), i * d));
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new TypeError(`Expected an integer >= ${min} for ${name} but received ${value}`);
  return value;
}
