/**
 * The synthetic data of the scale benchmark, reproducible chunk by chunk: chunk `c` of
 * the stream is `clusteredUnitVectors` with its own seed, so any process can regenerate
 * any chunk (and the queries) without the rest, and the whole stream never sits in memory.
 */
import { clusteredUnitVectors } from "../stats.js";

export interface DatasetSpec {
  count: number;
  dimension: number;
  /** Groups the vectors (and queries) are drawn around; see `clusteredUnitVectors`. */
  clusters: number;
  /** Vectors generated, indexed and scanned for ground truth at a time. */
  chunk: number;
  queries: number;
}

/** clusteredUnitVectors uses `seed` and `seed + 1`: chunk seeds step by 2 and start above the queries' seed. */
const QUERY_SEED = 2;
const chunkSeed = (chunkIndex: number) => 10 + 2 * chunkIndex;

export function queryVectors(spec: DatasetSpec): Float32Array {
  return clusteredUnitVectors(spec.queries, spec.dimension, spec.clusters, QUERY_SEED);
}

/** The chunks of the stream in order: the id of each chunk's first vector, and its rows laid end to end. */
export function* dataChunks(spec: DatasetSpec): Generator<{ firstId: number; rows: Float32Array }> {
  for (let c = 0, firstId = 0; firstId < spec.count; c++, firstId += spec.chunk) {
    const n = Math.min(spec.chunk, spec.count - firstId);
    yield { firstId, rows: clusteredUnitVectors(n, spec.dimension, spec.clusters, chunkSeed(c)) };
  }
}

/** The store id of the vector at stream position `i` (and back): generated, so no array of ids is ever kept. */
export const idOf = (i: number) => String(i);
export const positionOfId = (id: string | undefined) => (id === undefined ? -1 : Number(id));
