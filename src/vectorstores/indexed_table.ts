/**
 * The store's vectors (a `VectorTable`) and the faiss index over them, kept in step:
 * adding rows, training an index that needs it (IVF, PQ, OPQ, SQ8...) on a sample once
 * enough vectors exist, rebuilding from the live rows, and searching: exactly over the
 * table while the index is still untrained, and optionally re-scoring the index's
 * candidates exactly against the table (`rerank`).
 * Positions here are table rows; which id each one holds is `PositionMap`'s business.
 *
 * Large appends are pipelined: faiss adds one chunk of rows on a worker thread while JS
 * packs the next into the table (`appendVectors`). Its caller must not read the table or
 * index until the append settles, as faiss cannot search an index that it is adding to.
 */
import type { Index } from "faiss-node";
import { FaissIndex, type DistanceMetric, type FaissRuntime, type SearchTuning } from "./faiss_index.js";
import { DiskVectorTable } from "./disk_vector_table.js";
import { trainingNeeds, trainingSample } from "./index_training.js";
import { MemoryVectorTable, type VectorTable, type VectorsToSave } from "./vector_table.js";

/** How a store indexes its vectors: `ImageFaissStore`'s constructor options. */
export interface IndexOptions {
  /** "cosine" (inner product on unit vectors) or "l2". Default: `"cosine"`. */
  metric?: DistanceMetric;
  /**
   * A faiss factory string. Tested: "Flat", "HNSW32", "IVF256,Flat", "SQ8", "SQfp16",
   * "IVF256,PQ32", "OPQ32,IVF256,PQ32", "HNSW32,SQ8" (README: "Choosing an index"). Default: `"Flat"`.
   */
  indexType?: string;
  /** HNSW (also over SQ8/PQ, or as an IVF's quantizer): candidates examined per search; higher is slower and more exact. Default: `128`. */
  efSearch?: number;
  /** HNSW: candidates examined per insertion; higher builds slower, better graphs. Applies to vectors added from then on. Default: `40`. */
  efConstruction?: number;
  /** IVF (also inside OPQ): lists probed per query. Default: `8`. */
  nprobe?: number;
  /**
   * Index types that need training (IVF, PQ, OPQ, SQ8...): live vectors gathered before the
   * index is trained, on a sample of at most this many of them. Until then the store answers
   * with exact search over its vectors, so results are always complete. Default: from the
   * type, 39 × nlist for IVF, 9,984 (39 × 256) for PQ and OPQ, 1,000 for SQ8, the largest
   * of those that apply.
   */
  trainSize?: number;
  /** @deprecated The old name of `trainSize`, from when only IVF was trained. */
  ivfTrainSize?: number;
  /**
   * Candidates per query fetched from the index and re-scored exactly against the store's
   * float32 vectors: `max(k, rerank)` of them. Scores returned are then exact. Worth it for
   * compressed indexes (PQ, SQ8), whose own scores are approximate. Default: `0` (off).
   */
  rerank?: number;
  /**
   * OpenMP threads faiss uses for this store's adds, training and searches (with the addon
   * our install script builds; faiss-node's prebuilt binary ignores it). Default: OpenMP's,
   * all cores.
   */
  threads?: number;
  /**
   * Keep the store's own float32 copy of every vector in files, read on demand (exact
   * re-ranking, MMR, duplicates, rebuilds, training), instead of in RAM: 4 × dimension
   * bytes per vector less RSS, for a disk read per vector those need. Saves into the folder
   * the files already live in write no vector bytes again. Also a `load` option. Default: `false`.
   */
  vectorsOnDisk?: boolean;
  /**
   * With `vectorsOnDisk`: the folder under which a new store keeps its vector file until its
   * first save moves it into the store folder. Choose one on the store's file system when
   * the OS's temporary folder is small or in RAM (tmpfs). Default: the OS's temporary folder.
   */
  vectorsDir?: string;
}

/** The options resolved: defaults filled in and checked. */
export interface IndexConfig {
  metric: DistanceMetric;
  indexType: string;
  tuning: SearchTuning;
  /** Whether the factory string names a part that needs training (faiss has the final say). */
  needsTraining: boolean;
  /** Live vectors needed before an untrained index is trained, and the most it trains on. */
  trainSize: number;
  /** Candidates re-scored exactly per query; 0 = off. */
  rerank: number;
  runtime: FaissRuntime;
  vectorsOnDisk: boolean;
  vectorsDir: string | undefined;
}

/** Fills in defaults and refuses a bad metric, training size, rerank, thread count or vector placement. */
export function resolveIndexOptions(options: IndexOptions): IndexConfig {
  const metric = options.metric ?? "cosine";
  if (metric !== "cosine" && metric !== "l2") {
    throw new TypeError(`Expected "cosine" or "l2" for metric but received ${JSON.stringify(options.metric)}`);
  }
  const indexType = (options.indexType ?? "Flat").trim();
  const needs = trainingNeeds(indexType);
  const { trainSize: given, ivfTrainSize: alias } = options;
  if (given !== undefined && alias !== undefined && given !== alias) {
    throw new RangeError(
      `Got trainSize ${given} and ivfTrainSize ${alias}: give trainSize only (ivfTrainSize is its old name)`,
    );
  }
  const trainSizeName = given === undefined && alias !== undefined ? "ivfTrainSize" : "trainSize";
  const trainSize = checkCount(trainSizeName, given ?? alias, needs.defaultSize, 1);
  if (trainSize < needs.minimum) {
    throw new RangeError(`${trainSizeName} (${trainSize}) must be at least ${needs.minimumReason}`);
  }
  const rerank = checkCount("rerank", options.rerank, 0, 0);
  const threads = options.threads === undefined ? undefined : checkCount("threads", options.threads, 1, 1);
  const tuning = pickTuning({ efSearch: 128, efConstruction: 40, nprobe: 8 }, options);
  const { vectorsOnDisk = false, vectorsDir } = options;
  if (typeof vectorsOnDisk !== "boolean") {
    throw new TypeError(`Expected a boolean for vectorsOnDisk but received ${JSON.stringify(vectorsOnDisk)}`);
  }
  if (vectorsDir !== undefined && (typeof vectorsDir !== "string" || vectorsDir === "")) {
    throw new TypeError(`Expected a folder path for vectorsDir but received ${JSON.stringify(vectorsDir)}`);
  }
  if (vectorsDir !== undefined && !vectorsOnDisk) {
    throw new TypeError("vectorsDir is where vectorsOnDisk keeps a new store's vectors: it needs vectorsOnDisk: true");
  }
  return {
    metric,
    indexType,
    tuning,
    needsTraining: needs.needsTraining,
    trainSize,
    rerank,
    runtime: { threads },
    vectorsOnDisk,
    vectorsDir,
  };
}

/** `value` (or `fallback` when undefined), refused unless it is a whole number >= `least`. */
function checkCount(name: string, value: unknown, fallback: number, least: number): number {
  const n = value ?? fallback;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < least) {
    throw new RangeError(`Expected a whole number >= ${least} for ${name} but received ${JSON.stringify(value)}`);
  }
  return n;
}

/** `base` with the search parameters that `options` gives. */
function pickTuning(base: SearchTuning, options: Partial<SearchTuning>): SearchTuning {
  const tuning = { ...base };
  for (const name of ["efSearch", "efConstruction", "nprobe"] as const) {
    if (options[name] !== undefined) tuning[name] = options[name];
  }
  return tuning;
}

/** Search results as table positions, best first, with similarities (higher is better). */
export interface PositionHits {
  positions: number[];
  scores: number[];
}

/** Throws, naming the first offender, unless every vector has `dimension` entries. */
export function checkDimensions(vectors: ArrayLike<number>[], dimension: number): void {
  for (let i = 0; i < vectors.length; i++) {
    if (vectors[i].length !== dimension) {
      throw new RangeError(
        `Vector ${i} has ${vectors[i].length} dimensions but the store holds ${dimension}-d vectors`,
      );
    }
  }
}

/**
 * Writes the vectors whose `keep` flag is set (all of them without `keep`) end to end into
 * `target` as float32, normalised for cosine (the norm of the float32-rounded row, then
 * scaled in float32). Their dimensions must have been checked (`checkDimensions`). One pass
 * that copies and sums, with no per-row subarray: once the native add took typed arrays,
 * packing was the largest cost of a bulk add, and this pass takes about 20% less CPU time
 * than `set` plus `normalizeInPlace` did (20k 512-d rows, side by side).
 */
export function packRowsInto(
  vectors: ArrayLike<number>[],
  dimension: number,
  metric: DistanceMetric,
  target: Float32Array,
  keep?: boolean[],
): void {
  const normalise = metric === "cosine";
  let base = 0;
  for (let i = 0; i < vectors.length; i++) {
    if (keep && !keep[i]) continue;
    const v = vectors[i];
    // Four partial sums: one running sum made each add wait for the last, and this loop
    // took about 30% more CPU time (100k 512-d rows, side by side).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j + 3 < dimension; j += 4) {
      const a = Math.fround(v[j]);
      const b = Math.fround(v[j + 1]);
      const c = Math.fround(v[j + 2]);
      const d = Math.fround(v[j + 3]);
      target[base + j] = a;
      target[base + j + 1] = b;
      target[base + j + 2] = c;
      target[base + j + 3] = d;
      s0 += a * a;
      s1 += b * b;
      s2 += c * c;
      s3 += d * d;
    }
    let sum = s0 + s1 + (s2 + s3);
    for (; j < dimension; j++) {
      const x = Math.fround(v[j]);
      target[base + j] = x;
      sum += x * x;
    }
    if (normalise && sum !== 0) {
      const inv = 1 / Math.sqrt(sum);
      for (let j = base; j < base + dimension; j++) target[j] *= inv;
    }
    base += dimension;
  }
}

/**
 * Copies the rows of `flat` (laid end to end) whose `keep` flag is set (all without `keep`)
 * into `target` and normalises them there for cosine, with the same arithmetic as
 * `packRowsInto`. One bulk copy, then a pass over the copy: summing each row from `flat`
 * and writing it scaled took up to 1.8x the CPU time (100k 512-d rows, side by side).
 */
export function copyRowsInto(
  flat: Float32Array,
  dimension: number,
  metric: DistanceMetric,
  target: Float32Array,
  keep?: boolean[],
): void {
  if (!keep) target.set(flat);
  else {
    let at = 0;
    for (let i = 0; i < keep.length; i++) {
      if (keep[i]) target.set(flat.subarray(i * dimension, (i + 1) * dimension), dimension * at++);
    }
  }
  if (metric === "cosine") normaliseRows(target, dimension);
}

/** Scales each row of `rows` to unit length in place (rows of zeros stay zero). */
function normaliseRows(rows: Float32Array, dimension: number): void {
  for (let base = 0; base < rows.length; base += dimension) {
    const end = base + dimension;
    // Four partial sums, as in packRowsInto.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = base;
    for (; j + 3 < end; j += 4) {
      s0 += rows[j] * rows[j];
      s1 += rows[j + 1] * rows[j + 1];
      s2 += rows[j + 2] * rows[j + 2];
      s3 += rows[j + 3] * rows[j + 3];
    }
    let sum = s0 + s1 + (s2 + s3);
    for (; j < end; j++) sum += rows[j] * rows[j];
    if (sum === 0) continue;
    const inv = 1 / Math.sqrt(sum);
    for (let k = base; k < end; k++) rows[k] *= inv;
  }
}

/** The vectors laid end to end in a new Float32Array, checked and packed as `packRowsInto` does. */
export function packRows(vectors: ArrayLike<number>[], dimension: number, metric: DistanceMetric): Float32Array {
  checkDimensions(vectors, dimension);
  const flat = new Float32Array(vectors.length * dimension);
  packRowsInto(vectors, dimension, metric, flat);
  return flat;
}

/**
 * Rows per chunk of a pipelined append: faiss adds one while JS packs the next. Big enough
 * that each native call's fixed costs vanish, small enough that the first chunk's packing
 * and the last one's add (which overlap nothing) stay short, as does the event loop's wait
 * while a chunk is packed. 8,192 to 32,768 added 100k 512-d rows at the same rate within this
 * machine's noise (bench/async_add_side_by_side.ts); 8,192 blocked the event loop for
 * 75-110 ms at a time, 16,384 for 120-190 ms. Appends of fewer than two chunks go in one call.
 */
export const PIPELINE_CHUNK_ROWS = 8_192;

export class IndexedTable {
  /** Whether the index is trained: read when the index changes, so it stays readable while an append runs. */
  private trained: boolean;

  private constructor(
    private table: VectorTable,
    private index: FaissIndex,
    readonly config: IndexConfig,
  ) {
    this.trained = index.isTrained;
  }

  /** An empty table and index. An invalid index type is refused here, before anything is stored. */
  static async create(dimension: number, config: IndexConfig): Promise<IndexedTable> {
    const index = await FaissIndex.create(dimension, config.indexType, config.metric, config.tuning, config.runtime);
    const table = config.vectorsOnDisk
      ? DiskVectorTable.create(dimension, config.vectorsDir)
      : new MemoryVectorTable(dimension);
    return new IndexedTable(table, index, config);
  }

  /**
   * Saved vectors with their saved faiss index (read in place from `indexFile`), or a
   * fresh index when none was saved (an empty or untrained one); rows the index lacks
   * are added. The search parameters saved in the index hold, except those `options` gives.
   * An untrained index stays so: the caller checks `readyToTrain`.
   */
  static async restore(
    table: VectorTable,
    indexFile: string | undefined,
    config: IndexConfig,
    options: Partial<SearchTuning>,
  ): Promise<IndexedTable> {
    const { metric, indexType, runtime } = config;
    const index = indexFile
      ? await FaissIndex.fromFile(indexFile, indexType, metric, options, runtime)
      : await FaissIndex.create(table.dimension, indexType, metric, config.tuning, runtime);
    // Rebuilds keep what the loaded index holds (the saved parameters, or those given now).
    const tuning = indexFile ? pickTuning(config.tuning, index.heldTuning) : config.tuning;
    if (index.isTrained) await addSlices(index, table, index.size);
    return new IndexedTable(table, index, { ...config, tuning });
  }

  get dimension(): number {
    return this.table.dimension;
  }

  /** Rows stored, dead ones included. */
  get rowCount(): number {
    return this.table.size;
  }

  get isTrained(): boolean {
    return this.trained;
  }

  /** The faiss-node index itself. */
  get nativeIndex(): Index {
    return this.index.native;
  }

  /** True when the index is untrained and `liveCount` vectors are enough to train it. */
  readyToTrain(liveCount: number): boolean {
    return !this.trained && liveCount >= this.config.trainSize;
  }

  /**
   * Appends the vectors whose `keep` flag is set (all without `keep`), packed straight into
   * the table (see `packRowsInto` and `copyRowsInto`; their dimensions checked already), and
   * indexes them when the index is trained. `vectors` is one array per vector, or one
   * Float32Array holding them end to end. Resolves to the first new position once faiss
   * holds every row. Callers serialise appends (one at a time).
   *
   * From two chunks of `PIPELINE_CHUNK_ROWS` on, chunk i+1 is packed while faiss adds chunk
   * i on a worker thread, so the add costs about the larger of the two rather than their sum.
   * When faiss fails, the table and index are rebuilt from the rows held before (so they
   * stay in step) and the error is passed on. `pipelineRows` is for benchmarks measuring it.
   */
  async appendVectors(
    vectors: ArrayLike<number>[] | Float32Array,
    keep?: boolean[],
    pipelineRows = PIPELINE_CHUNK_ROWS,
  ): Promise<number> {
    const { dimension } = this.table;
    const { metric } = this.config;
    const given = vectors instanceof Float32Array ? vectors.length / dimension : vectors.length;
    const chunkRows = given >= 2 * pipelineRows ? pipelineRows : Math.max(given, 1);
    const before = this.table.size;
    const index = this.trained ? this.index : undefined;
    let adding: Promise<void> | undefined;
    if (chunkRows < given) this.table.reserveMore(keep ? keep.filter(Boolean).length : given);
    try {
      for (let start = 0; start < given; start += chunkRows) {
        const end = Math.min(given, start + chunkRows);
        const part = keep?.slice(start, end);
        const count = part ? part.filter(Boolean).length : end - start;
        if (count === 0) continue;
        const { rows } = this.table.appendFilled(count, (target) =>
          vectors instanceof Float32Array
            ? copyRowsInto(vectors.subarray(start * dimension, end * dimension), dimension, metric, target, part)
            : packRowsInto(vectors.slice(start, end), dimension, metric, target, part),
        );
        // The previous chunk's add ran while this one was packed; one add at a time. An append
        // of one chunk adds on this thread: with nothing to overlap, the worker thread's round
        // trip would only cost (one vector per call: 63k/s synchronously, 20k/s through it).
        await adding;
        if (chunkRows === given) index?.add(rows, dimension);
        else adding = index?.addAsync(rows, dimension);
      }
      await adding;
    } catch (error) {
      await adding?.catch(() => undefined);
      if (index) await this.rebuild(range(0, before));
      throw error;
    }
    return before;
  }

  row(position: number): Float32Array {
    return this.table.row(position);
  }

  /** Rows at `positions`, laid end to end (one sorted pass over the file when vectors are on disk). */
  gather(positions: number[]): Float32Array {
    return this.table.gather(positions);
  }

  /**
   * A fresh table and index holding only the rows at `live` (old positions, in order),
   * which become positions 0, 1, 2... An index that needs training is trained first
   * when they are enough, on a sample of `trainSize` of them, and otherwise stays
   * untrained (searched exactly until then).
   */
  async rebuild(live: number[]): Promise<void> {
    const { dimension } = this.table;
    const table = await this.table.select(live);
    const { metric, indexType, tuning, trainSize, runtime } = this.config;
    let index = await FaissIndex.create(dimension, indexType, metric, tuning, runtime);
    if (!index.isTrained && live.length >= trainSize) {
      index = await index.train(table.gather(trainingSample(live.length, trainSize)), dimension);
    }
    if (index.isTrained) await addSlices(index, table, 0);
    this.table.retire(table);
    this.table = table;
    this.index = index;
    this.trained = index.isTrained;
  }

  /**
   * The `k` nearest positions to a query packed like the rows. faiss answers when it
   * holds every row; otherwise (an untrained index) the table is searched exactly, so
   * results are complete from the first vector on. With `rerank`, faiss' `max(k, rerank)`
   * best candidates are re-scored exactly and the best `k` of them returned.
   */
  search(query: Float32Array, k: number): PositionHits {
    if (this.index.isTrained && this.index.size === this.table.size) {
      const { rerank } = this.config;
      if (rerank === 0) return this.index.search(query, k);
      return this.rescored(query, this.index.search(query, Math.max(k, rerank)).positions, k);
    }
    const { metric } = this.config;
    const { dimension, size } = this.table;
    const scores = new Float32Array(size);
    let p = 0;
    for (const rows of this.table.slices(0, size)) {
      for (let at = 0; at < rows.length; at += dimension) {
        scores[p++] = similarity(query, rows.subarray(at, at + dimension), metric);
      }
    }
    const order = range(0, this.table.size)
      .sort((a, b) => scores[b] - scores[a])
      .slice(0, k);
    return { positions: order, scores: order.map((p) => scores[p]) };
  }

  /** The best `k` of `candidates`, by their exact similarity to `query`. */
  private rescored(query: Float32Array, candidates: number[], k: number): PositionHits {
    const { dimension } = this.table;
    const rows = this.table.gather(candidates);
    const scores = candidates.map((_, i) =>
      similarity(query, rows.subarray(i * dimension, (i + 1) * dimension), this.config.metric),
    );
    const order = range(0, candidates.length)
      .sort((a, b) => scores[b] - scores[a])
      .slice(0, k);
    return { positions: order.map((i) => candidates[i]), scores: order.map((i) => scores[i]) };
  }

  /** Every row, dead ones included, made ready for a save into `directory` (see `VectorTable.prepareSave`). */
  prepareVectors(directory: string): Promise<VectorsToSave> {
    return this.table.prepareSave(directory);
  }

  /** Reads the vectors once so later re-ranks find them in the page cache (disk tables); returns the bytes read. */
  prefetchVectors(): Promise<number> {
    return this.table.prefetch();
  }

  /** Vector files of `<directory>/vectors/` this store still reads or writes. */
  vectorFilesInUse(directory: string): string[] {
    return this.table.filesInUse(directory);
  }

  /** The serialised faiss index, or undefined when there is nothing worth saving (empty or untrained). */
  indexBytes(): Buffer | undefined {
    return this.index.isTrained && this.index.size > 0 ? this.index.toBuffer() : undefined;
  }
}

/**
 * Adds the table's rows from `start` on to the index, a slice at a time, each on faiss's
 * worker thread while the next slice is read (a disk table reads it from its file).
 */
async function addSlices(index: FaissIndex, table: VectorTable, start: number): Promise<void> {
  let adding: Promise<void> | undefined;
  try {
    for (const rows of table.slices(start, table.size)) {
      await adding;
      adding = index.addAsync(rows, table.dimension);
    }
  } finally {
    await adding;
  }
}

/** Cosine for unit vectors; `1 − ‖a − b‖² / 2` for l2, as faiss_index.ts scores it. */
function similarity(a: Float32Array, b: Float32Array, metric: DistanceMetric): number {
  let s = 0;
  if (metric === "cosine") {
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return 1 - s / 2;
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}
