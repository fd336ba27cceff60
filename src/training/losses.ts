/**
 * The two training objectives of the design notes, with their gradients, on unit-length
 * rows (row-major, `d` columns, float64 or float32; gradients come in the same type):
 * - triplet: max(0, d(a, p) − d(a, n) + margin), Euclidean or cosine distance;
 * - InfoNCE: cross-entropy of each row against its pair among all pairs in the batch,
 *   with a temperature; symmetric (both directions averaged) as in CLIP.
 * Each returns the mean loss and d(loss)/d(rows). Checked against finite differences
 * in test/training/gradients.test.ts.
 */
import { zerosLike, type Floats } from "../heads/matrix_engine.js";

export type TripletDistance = "euclidean" | "cosine";

export interface LossResult<T extends Floats = Floats> {
  loss: number;
  /** d(loss)/d(rows), the same layout and float type as the input rows. */
  grad: T;
}

/** Indices into the rows: anchor, positive, negative. */
export type Triplet = [number, number, number];

export function tripletLoss<T extends Floats>(
  rows: T,
  d: number,
  triplets: Triplet[],
  margin: number,
  distance: TripletDistance,
): LossResult<T> {
  const grad = zerosLike(rows);
  if (triplets.length === 0) return { loss: 0, grad };
  let total = 0;
  const scale = 1 / triplets.length;
  for (const [a, p, n] of triplets) {
    const dap = pairDistance(rows, d, a, p, distance);
    const dan = pairDistance(rows, d, a, n, distance);
    const violation = dap - dan + margin;
    if (violation <= 0) continue;
    total += violation;
    addDistanceGrad(rows, d, a, p, distance, dap, scale, grad);
    addDistanceGrad(rows, d, a, n, distance, dan, -scale, grad);
  }
  return { loss: total * scale, grad };
}

/**
 * Batch-hard mining: for each anchor, the farthest row with its label and the nearest
 * row with another label. Anchors whose label has no other row, or no other label is
 * present, are skipped. Pass `distances` (n × n) when they are already known, e.g. from
 * `distancesFromGram`; otherwise they are computed here.
 */
export function batchHardTriplets(
  rows: Floats,
  d: number,
  labels: number[],
  distance: TripletDistance,
  distances?: Floats,
): Triplet[] {
  const n = labels.length;
  distances ??= pairwiseDistances(rows, d, n, distance);
  const triplets: Triplet[] = [];
  for (let a = 0; a < n; a++) {
    let hardestPositive = -1;
    let positiveDistance = -Infinity;
    let hardestNegative = -1;
    let negativeDistance = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === a) continue;
      const dist = distances[a * n + j];
      if (labels[j] === labels[a]) {
        if (dist > positiveDistance) {
          positiveDistance = dist;
          hardestPositive = j;
        }
      } else if (dist < negativeDistance) {
        negativeDistance = dist;
        hardestNegative = j;
      }
    }
    if (hardestPositive >= 0 && hardestNegative >= 0) triplets.push([a, hardestPositive, hardestNegative]);
  }
  return triplets;
}

/** Every pair's distance (n × n, symmetric), each pair computed once: mining reads it n² times. */
function pairwiseDistances(rows: Floats, d: number, n: number, distance: TripletDistance): Float64Array {
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const value = pairDistance(rows, d, a, b, distance);
      out[a * n + b] = value;
      out[b * n + a] = value;
    }
  }
  return out;
}

/**
 * Every pair's distance from the rows' Gram matrix G = rows · rowsᵀ (n × n), which a
 * matrix engine computes far faster than pair-by-pair loops: cosine 1 − G[a][b] (rows
 * are unit length), Euclidean √(G[a][a] + G[b][b] − 2 G[a][b]).
 */
export function distancesFromGram(gram: Floats, n: number, distance: TripletDistance): Float64Array {
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const g = gram[a * n + b];
      out[a * n + b] =
        distance === "cosine" ? 1 - g : Math.sqrt(Math.max(0, gram[a * n + a] + gram[b * n + b] - 2 * g));
    }
  }
  return out;
}

/**
 * InfoNCE over `n` pairs: rows `0..n-1` are one side (e.g. images), rows `n..2n-1` the
 * other side (their pairs: another image of the same thing, or its caption), so row i
 * must pick row n+i among all of the other side. `symmetric` also scores the other side
 * against the first and averages the two, as CLIP does.
 */
export function infoNceLoss<T extends Floats>(
  rows: T,
  d: number,
  n: number,
  temperature: number,
  symmetric = true,
): LossResult<T> {
  const grad = zerosLike(rows);
  const logits = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) logits[i * n + j] = dot(rows, d, i, n + j) / temperature;
  const directions = symmetric ? 2 : 1;
  let loss = 0;
  for (let direction = 0; direction < directions; direction++) {
    // direction 0: row i of side A against side B; direction 1: row j of side B against side A.
    for (let i = 0; i < n; i++) {
      const at = (j: number) => (direction === 0 ? logits[i * n + j] : logits[j * n + i]);
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, at(j));
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(at(j) - max);
      loss += -(at(i) - max - Math.log(sum));
      for (let j = 0; j < n; j++) {
        const g = (Math.exp(at(j) - max) / sum - (j === i ? 1 : 0)) / (n * directions * temperature);
        // logit = a_r · b_c / τ with (r, c) = (i, j) or (j, i)
        const [r, c] = direction === 0 ? [i, n + j] : [j, n + i];
        for (let k = 0; k < d; k++) {
          grad[r * d + k] += g * rows[c * d + k];
          grad[c * d + k] += g * rows[r * d + k];
        }
      }
    }
  }
  return { loss: loss / (n * directions), grad };
}

function dot(rows: Floats, d: number, a: number, b: number): number {
  const ra = a * d;
  const rb = b * d;
  let s = 0;
  for (let k = 0; k < d; k++) s += rows[ra + k] * rows[rb + k];
  return s;
}

function pairDistance(rows: Floats, d: number, a: number, b: number, distance: TripletDistance): number {
  if (distance === "cosine") return 1 - dot(rows, d, a, b);
  const ra = a * d;
  const rb = b * d;
  let s = 0;
  for (let k = 0; k < d; k++) {
    const diff = rows[ra + k] - rows[rb + k];
    s += diff * diff;
  }
  return Math.sqrt(s);
}

/** Adds scale × d(distance(a, b))/d(rows) into grad. */
function addDistanceGrad(
  rows: Floats,
  d: number,
  a: number,
  b: number,
  distance: TripletDistance,
  value: number,
  scale: number,
  grad: Floats,
) {
  for (let k = 0; k < d; k++) {
    const ga = distance === "cosine" ? -rows[b * d + k] : (rows[a * d + k] - rows[b * d + k]) / Math.max(value, 1e-12);
    const gb = distance === "cosine" ? -rows[a * d + k] : -ga;
    grad[a * d + k] += scale * ga;
    grad[b * d + k] += scale * gb;
  }
}
