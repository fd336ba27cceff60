/**
 * A thin wrapper over one faiss-node index: creation from a factory string, bulk
 * adds, training, search, and (de)serialisation. The only file that calls faiss-node.
 *
 * faiss-node exposes no ParameterSpace, so search parameters are written into the
 * serialised index and read back (see `faiss_params.ts`): HNSW's efSearch and
 * efConstruction when the empty index is created, IVF's nprobe after training.
 * Both are kept in saved indexes.
 */
import { constants, existsSync, readSync } from "node:fs";
import { copyFile, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Index } from "faiss-node";
import { loadFaiss, type FaissModule } from "../utils/imports.js";
import { addRows, hasBufferMethods, searchRows, trainRows, type NativeHits } from "./faiss_native_rows.js";
import {
  readSearchParams,
  searchParamPatches,
  writeSearchParams,
  type ReadAt,
  type SearchTuning,
} from "./faiss_params.js";

export type DistanceMetric = "cosine" | "l2";

export type { SearchTuning } from "./faiss_params.js";

/** Nearest positions, best first, with their scores (see `FaissIndex.search`). */
export interface PositionScores {
  positions: number[];
  scores: number[];
}

export class FaissIndex {
  private constructor(
    readonly native: Index,
    readonly factory: string,
    readonly metric: DistanceMetric,
    private readonly tuning: SearchTuning,
  ) {}

  static async create(
    dimension: number,
    factory: string,
    metric: DistanceMetric,
    tuning: SearchTuning,
  ): Promise<FaissIndex> {
    const faiss = await loadFaiss();
    const metricType = metric === "cosine" ? faiss.MetricType.METRIC_INNER_PRODUCT : faiss.MetricType.METRIC_L2;
    let native: Index;
    try {
      native = faiss.Index.fromFactory(dimension, factory, metricType);
    } catch (error) {
      throw new Error(`Invalid faiss index type "${factory}": ${(error as Error).message.split("\n")[0]}`, {
        cause: error,
      });
    }
    return new FaissIndex(native, factory, metric, tuning).withSearchParams();
  }

  /** The search parameters saved in the index file at `path` (none for index types without any). */
  static async savedTuning(path: string): Promise<Partial<SearchTuning>> {
    return withFileReader(path, readSearchParams);
  }

  /**
   * Reads a saved index straight from its file. faiss reads it in place: going through
   * a JS Buffer held the file twice more at the peak (the Buffer and faiss-node's copy
   * of it), 4.6 GB for an HNSW index of a million vectors. When `tuning` differs from
   * what the file holds, faiss reads a patched temporary copy; the file is never changed.
   */
  static async fromFile(
    path: string,
    factory: string,
    metric: DistanceMetric,
    tuning: SearchTuning,
  ): Promise<FaissIndex> {
    const faiss = await loadFaiss();
    const patches = await withFileReader(path, (read, size) => searchParamPatches(read, size, tuning));
    if (patches.length === 0) return new FaissIndex(readIndex(faiss, path), factory, metric, tuning);
    const scratch = await mkdtemp(join(tmpdir(), "faiss-index-"));
    try {
      const copy = join(scratch, "faiss.index");
      await copyFile(path, copy, constants.COPYFILE_FICLONE);
      const handle = await open(copy, "r+");
      try {
        for (const { offset, bytes } of patches) await handle.write(bytes, 0, bytes.length, offset);
      } finally {
        await handle.close();
      }
      return new FaissIndex(readIndex(faiss, copy), factory, metric, tuning);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  get size(): number {
    return this.native.ntotal();
  }

  get isTrained(): boolean {
    return this.native.isTrained();
  }

  /** Number of IVF lists, or undefined for index types without them. */
  get nlist(): number | undefined {
    return ivfListCount(this.factory);
  }

  /**
   * True when the addon moves floats through typed arrays (built by our install script);
   * false for faiss-node's prebuilt binary, whose plain-array methods are slower.
   */
  get hasBufferMethods(): boolean {
    return hasBufferMethods(this.native);
  }

  /** Trains on the given rows. faiss aborts the process when k-means gets fewer points than lists, so that is checked first. */
  async train(flat: Float32Array, dimension: number): Promise<FaissIndex> {
    const rows = flat.length / dimension;
    const nlist = this.nlist ?? 1;
    if (rows < nlist) throw new Error(`cannot train ${this.factory} on ${rows} vectors: it needs at least ${nlist}`);
    trainRows(this.native, flat);
    return this.withSearchParams();
  }

  /** Adds rows laid end to end (see `faiss_native_rows.ts` for how they reach faiss). */
  add(flat: Float32Array, dimension: number): void {
    addRows(this.native, flat, dimension, /HNSW/i.test(this.factory));
  }

  /**
   * The `k` nearest positions with their similarity, best first. Scores are cosine
   * similarity for "cosine"; for "l2" they are `1 − ‖a − b‖² / 2`, which is the same
   * number for unit vectors, so thresholds mean the same under both metrics.
   */
  search(query: Float32Array | number[], k: number): PositionScores {
    return this.searchMany(query instanceof Float32Array ? query : Float32Array.from(query), k)[0];
  }

  /**
   * `search` for many queries laid end to end, in one native call (faiss then spreads the
   * queries over its threads). One result per query, in order.
   */
  searchMany(queries: Float32Array, k: number): PositionScores[] {
    const dimension = this.native.getDimension();
    if (queries.length % dimension !== 0)
      throw new Error(`queries have ${queries.length} floats, not a whole number of ${dimension}-d rows`);
    const nq = queries.length / dimension;
    const n = Math.min(k, this.size);
    if (n === 0) return Array.from({ length: nq }, () => ({ positions: [], scores: [] }));
    const hits = searchRows(this.native, queries, n);
    return Array.from({ length: nq }, (_, q) => this.scored(hits, q * n, n));
  }

  /** The `n` results starting at `from`, padding dropped and distances turned into scores. */
  private scored({ labels, distances }: NativeHits, from: number, n: number): PositionScores {
    const positions: number[] = [];
    const scores: number[] = [];
    for (let i = from; i < from + n; i++) {
      if (labels[i] < 0) continue; // faiss pads with -1 when it finds fewer than asked
      positions.push(labels[i]);
      scores.push(this.metric === "cosine" ? distances[i] : 1 - distances[i] / 2);
    }
    return { positions, scores };
  }

  toBuffer(): Buffer {
    return this.native.toBuffer();
  }

  /**
   * A copy of this index with the search parameters written in. Called while the
   * index is empty (at creation, right after training), so the round trip is cheap.
   */
  private async withSearchParams(): Promise<FaissIndex> {
    const bytes = this.native.toBuffer();
    if (!writeSearchParams(bytes, this.tuning)) return this;
    const faiss = await loadFaiss();
    return new FaissIndex(faiss.Index.fromBuffer(bytes), this.factory, this.metric, this.tuning);
  }
}

/** Reads from the index file at `path` through `use`, a few bytes at a time. */
async function withFileReader<T>(path: string, use: (read: ReadAt, size: number) => T): Promise<T> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    return use((offset, length) => {
      const bytes = Buffer.alloc(length);
      readSync(handle.fd, bytes, 0, length, offset);
      return bytes;
    }, size);
  } finally {
    await handle.close();
  }
}

/** faiss' reader, with the error of a file that vanished meanwhile kept recognisable as ENOENT. */
function readIndex(faiss: FaissModule, path: string): Index {
  try {
    return faiss.Index.read(path);
  } catch (error) {
    if (!existsSync(path))
      throw Object.assign(new Error(`${path} vanished while it was read`, { cause: error }), { code: "ENOENT" });
    throw new Error(`Cannot read the faiss index ${path}: ${(error as Error).message.split("\n")[0]}`, {
      cause: error,
    });
  }
}

export function ivfListCount(factory: string): number | undefined {
  const match = /(?:^|,)IVF(\d+)/i.exec(factory);
  return match ? Number(match[1]) : undefined;
}
