/** Small vector helpers on plain arrays and typed arrays. */

/** Scales `v` in place to unit L2 norm. A zero vector stays zero rather than becoming NaN. */
export function normalizeInPlace(v: Float32Array | number[]): void {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  if (sum === 0) return;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}

/** Splits a flat row-major matrix into `number[]` rows, normalising each if asked. */
export function splitRows(flat: Float32Array, rows: number, normalize: boolean): number[][] {
  const dim = flat.length / rows;
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row = flat.subarray(r * dim, (r + 1) * dim);
    if (normalize) normalizeInPlace(row);
    out.push(Array.from(row));
  }
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Cosine similarity; 0 when either vector is zero. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const denom = Math.sqrt(dot(a, a) * dot(b, b));
  return denom === 0 ? 0 : dot(a, b) / denom;
}
