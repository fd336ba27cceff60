import { gaussian, seededRandom } from "../src/heads/random.js";
import { normalizeInPlace } from "../src/utils/vectors.js";

/** Small statistics helpers for the benchmarks. */

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile of `values` (0–100). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Uniformly random unit vectors (a fixed seed, so every run indexes the same data). */
export function randomUnitVectors(count: number, dim: number, seed: number): Float32Array {
  const next = seededRandom(seed);
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      // Gaussian coordinates give directions uniform on the sphere.
      const g = gaussian(next);
      out[i * dim + j] = g;
      norm += g * g;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let j = 0; j < dim; j++) out[i * dim + j] *= scale;
  }
  return out;
}

/**
 * Unit vectors in groups, closer to what embeddings of a photo collection look like than
 * uniform ones: each is one of `clusters` fixed random centres plus Gaussian noise of the
 * same length, normalised (cosine ≈ 0.71 to its centre, ≈ 0.5 to its group's other
 * members, ≈ 0 to the rest). The centres never change, so data and queries drawn with
 * different seeds share them.
 */
export function clusteredUnitVectors(count: number, dim: number, clusters: number, seed: number): Float32Array {
  const centres = randomUnitVectors(clusters, dim, 1_000_003);
  const noise = randomUnitVectors(count, dim, seed);
  const next = seededRandom(seed + 1);
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const centre = Math.floor(next() * clusters);
    const row = out.subarray(i * dim, (i + 1) * dim);
    for (let j = 0; j < dim; j++) row[j] = centres[centre * dim + j] + noise[i * dim + j];
    normalizeInPlace(row);
  }
  return out;
}

export function rows(flat: Float32Array, dim: number, start = 0, end = flat.length / dim): number[][] {
  const out: number[][] = [];
  for (let i = start; i < end; i++) out.push(Array.from(flat.subarray(i * dim, (i + 1) * dim)));
  return out;
}
