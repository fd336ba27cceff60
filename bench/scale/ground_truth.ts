/**
 * Exact nearest neighbours of a few queries over a stream of vectors that is never held
 * whole: each chunk is scored against every query, and a running top-k per query keeps
 * the best seen so far. Memory is queries × k whatever the stream's length, so 10M
 * vectors need no Flat index of their own.
 */
import type { Index } from "faiss-node";
import { loadFaiss } from "../../src/utils/imports.js";
import { addRows, searchRows } from "../../src/vectorstores/faiss_native_rows.js";

/** The `k` best (highest score) ids per query seen so far; on equal scores the id offered first stays. */
export class RunningTopK {
  /** Per query, its k slots best first; empty slots hold -Infinity and id -1. */
  private readonly scores: Float64Array;
  private readonly ids: Float64Array;

  constructor(
    readonly queries: number,
    readonly k: number,
  ) {
    if (!Number.isInteger(queries) || queries <= 0)
      throw new RangeError(`Expected a positive integer for queries but received ${queries}`);
    if (!Number.isInteger(k) || k <= 0) throw new RangeError(`Expected a positive integer for k but received ${k}`);
    this.scores = new Float64Array(queries * k).fill(-Infinity);
    this.ids = new Float64Array(queries * k).fill(-1);
  }

  /** Keeps `id` for `query` when it beats the query's current k-th best. */
  offer(query: number, id: number, score: number): void {
    const base = query * this.k;
    const last = base + this.k - 1;
    // Most offers lose to the current k-th best: one comparison and out.
    if (!(score > this.scores[last])) return;
    let slot = last;
    while (slot > base && this.scores[slot - 1] < score) {
      this.scores[slot] = this.scores[slot - 1];
      this.ids[slot] = this.ids[slot - 1];
      slot--;
    }
    this.scores[slot] = score;
    this.ids[slot] = id;
  }

  /** The query's ids, best first (fewer than k while fewer were offered). */
  idsOf(query: number): number[] {
    const out: number[] = [];
    for (let i = query * this.k; i < (query + 1) * this.k && this.ids[i] >= 0; i++) out.push(this.ids[i]);
    return out;
  }

  /** The query's scores, best first, matching `idsOf`. */
  scoresOf(query: number): number[] {
    return this.idsOf(query).map((_, i) => this.scores[query * this.k + i]);
  }

  /** Every query's ids, best first. */
  toJSON(): number[][] {
    return Array.from({ length: this.queries }, (_, q) => this.idsOf(q));
  }
}

/**
 * The exact top-k of `queries` (rows laid end to end) over chunks of vectors offered one
 * after another, by inner product (cosine for unit vectors, as the store scores them).
 *
 * Each chunk goes into a flat index, which the queries search for their k best: faiss
 * computes the queries × chunk score matrix in one BLAS product and keeps a heap of k per
 * query, so only queries × k results come back to JS. (Indexing the queries instead and
 * asking every chunk row for all of them made faiss sort queries × chunk results: twice
 * the CPU time.) The chunk index is emptied after each chunk and reused, so no native
 * memory piles up between chunks (faiss-node frees an index only when the garbage
 * collector gets to it).
 */
export class StreamingGroundTruth {
  readonly top: RunningTopK;

  private constructor(
    private readonly chunkIndex: Index,
    private readonly queries: Float32Array,
    readonly dimension: number,
    readonly queryCount: number,
    k: number,
  ) {
    this.top = new RunningTopK(queryCount, k);
  }

  static async create(queries: Float32Array, dimension: number, k: number): Promise<StreamingGroundTruth> {
    if (queries.length === 0 || queries.length % dimension !== 0)
      throw new RangeError(`queries hold ${queries.length} floats, not a whole number of ${dimension}-d rows`);
    const { IndexFlatIP } = await loadFaiss();
    return new StreamingGroundTruth(new IndexFlatIP(dimension), queries, dimension, queries.length / dimension, k);
  }

  /** Scores the chunk's rows (ids `firstId`, `firstId + 1`, ...) against every query. */
  scan(chunk: Float32Array, firstId: number): void {
    if (chunk.length % this.dimension !== 0)
      throw new RangeError(`chunk holds ${chunk.length} floats, not a whole number of ${this.dimension}-d rows`);
    const rows = chunk.length / this.dimension;
    if (rows === 0) return;
    addRows(this.chunkIndex, chunk, this.dimension, false);
    const k = Math.min(this.top.k, rows);
    const { labels, distances } = searchRows(this.chunkIndex, this.queries, k);
    for (let query = 0; query < this.queryCount; query++) {
      for (let j = query * k; j < (query + 1) * k; j++) this.top.offer(query, firstId + labels[j], distances[j]);
    }
    this.chunkIndex.removeIds(Array.from({ length: rows }, (_, i) => i));
  }
}

/** recall@k: the share of each query's true top k found among its returned ids, over all queries. */
export function recallAtK(found: ArrayLike<number>[], truth: number[][], k: number): number {
  if (found.length !== truth.length)
    throw new RangeError(`Got results for ${found.length} queries but ground truth for ${truth.length}`);
  let hits = 0;
  for (let q = 0; q < truth.length; q++) {
    const expected = new Set(truth[q].slice(0, k));
    const seen = new Set<number>();
    for (let i = 0; i < Math.min(k, found[q].length); i++) {
      const id = found[q][i];
      if (expected.has(id) && !seen.has(id)) hits++;
      seen.add(id);
    }
  }
  return hits / (k * truth.length);
}
