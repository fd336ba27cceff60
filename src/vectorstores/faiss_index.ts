/**
 * A thin wrapper over one faiss-node index: creation from a factory string, bulk
 * adds, training, search, and (de)serialisation. The only file that calls faiss-node.
 *
 * Search parameters (HNSW's efSearch and efConstruction, IVF's nprobe, wherever they sit
 * in the index) are set through our addon's ParameterSpace setter; with faiss-node's
 * prebuilt binary they are written into the serialised index instead (`faiss_params.ts`).
 * faiss keeps them in saved indexes either way.
 *
 * `addAsync` runs faiss's add on a worker thread. faiss cannot add to an index while
 * anything else reads it, so until that add settles every other call on this index
 * (search, size, training, serialising, the native index itself) throws rather than race.
 */
import { constants, existsSync, readSync } from "node:fs";
import { copyFile, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Index } from "faiss-node";
import { loadFaiss, type FaissModule } from "../utils/imports.js";
import {
  addRows,
  addRowsAsync,
  hasBufferMethods,
  searchRows,
  trainRows,
  type NativeHits,
} from "./faiss_native_rows.js";
import {
  applyParams,
  hasParameterMethods,
  heldParams,
  readSearchParams,
  searchParamPatches,
  writeSearchParams,
  type ReadAt,
  type SearchTuning,
} from "./faiss_params.js";
import { factoryToBuild, trainingNeeds } from "./index_training.js";

export type DistanceMetric = "cosine" | "l2";

export type { SearchTuning } from "./faiss_params.js";

/** Nearest positions, best first, with their scores (see `FaissIndex.search`). */
export interface PositionScores {
  positions: number[];
  scores: number[];
}

/** How faiss runs: the OpenMP threads to use, or undefined for OpenMP's default (all cores). */
export interface FaissRuntime {
  threads?: number;
}

/** The module functions of an addon built by our install script (scripts/faiss-node/buffer-methods.cc). */
interface ThreadMethods {
  setNumThreads(n: number): void;
  getNumThreads(): number;
}

export class FaissIndex {
  /** Set while an `addAsync` runs on a worker thread: no other call may touch the index then. */
  private adding = false;

  private constructor(
    private readonly faiss: FaissModule,
    private readonly handle: Index,
    readonly factory: string,
    readonly metric: DistanceMetric,
    /** The parameters this index holds (byte-patched path), or wanted for it. */
    private readonly tuning: Partial<SearchTuning>,
    private readonly runtime: FaissRuntime,
  ) {}

  static async create(
    dimension: number,
    factory: string,
    metric: DistanceMetric,
    tuning: SearchTuning,
    runtime: FaissRuntime = {},
  ): Promise<FaissIndex> {
    const faiss = await loadFaiss();
    const metricType = metric === "cosine" ? faiss.MetricType.METRIC_INNER_PRODUCT : faiss.MetricType.METRIC_L2;
    let native: Index;
    try {
      native = faiss.Index.fromFactory(dimension, factoryToBuild(factory), metricType);
    } catch (error) {
      throw new Error(`Invalid faiss index type "${factory}": ${(error as Error).message.split("\n")[0]}`, {
        cause: error,
      });
    }
    return new FaissIndex(faiss, native, factory, metric, tuning, runtime).withSearchParams();
  }

  /**
   * The OpenMP threads faiss uses in this process, or undefined when the addon cannot tell
   * (faiss-node's prebuilt binary).
   */
  static async threadCount(): Promise<number | undefined> {
    const faiss = (await loadFaiss()) as FaissModule & Partial<ThreadMethods>;
    return typeof faiss.getNumThreads === "function" ? faiss.getNumThreads() : undefined;
  }

  /**
   * Reads a saved index straight from its file. faiss reads it in place: going through
   * a JS Buffer held the file twice more at the peak (the Buffer and faiss-node's copy
   * of it), 4.6 GB for an HNSW index of a million vectors. The parameters in `overrides`
   * replace the saved ones in memory only; the file is never changed. With faiss-node's
   * prebuilt binary, faiss then reads a patched temporary copy instead.
   */
  static async fromFile(
    path: string,
    factory: string,
    metric: DistanceMetric,
    overrides: Partial<SearchTuning>,
    runtime: FaissRuntime = {},
  ): Promise<FaissIndex> {
    const faiss = await loadFaiss();
    if (hasParameterMethods(faiss.Index.prototype as Index)) {
      const native = readIndex(faiss, path);
      if (hasParameterMethods(native)) applyParams(native, overrides);
      return new FaissIndex(faiss, native, factory, metric, {}, runtime);
    }
    const { saved, patches } = await withFileReader(path, (read, size) => ({
      saved: readSearchParams(read, size),
      patches: searchParamPatches(read, size, overrides),
    }));
    const held: Partial<SearchTuning> = { ...saved };
    for (const name of Object.keys(saved) as (keyof SearchTuning)[]) held[name] = overrides[name] ?? saved[name];
    if (patches.length === 0) return new FaissIndex(faiss, readIndex(faiss, path), factory, metric, held, runtime);
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
      return new FaissIndex(faiss, readIndex(faiss, copy), factory, metric, held, runtime);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** The faiss-node index itself. Throws while an `addAsync` is in flight. */
  get native(): Index {
    return this.idle("the native index");
  }

  get size(): number {
    return this.idle("size").ntotal();
  }

  get isTrained(): boolean {
    return this.idle("isTrained").isTrained();
  }

  /**
   * The search parameters this index holds (efSearch, efConstruction, nprobe; only those
   * its type has). Without our addon, those it was created or loaded with.
   */
  get heldTuning(): Partial<SearchTuning> {
    const native = this.idle("heldTuning");
    return hasParameterMethods(native) ? heldParams(native) : { ...this.tuning };
  }

  /** True when parameters reach the index through ParameterSpace (our addon), wrapped indexes included. */
  get hasParameterMethods(): boolean {
    return hasParameterMethods(this.handle);
  }

  /**
   * True when the addon moves floats through typed arrays (built by our install script);
   * false for faiss-node's prebuilt binary, whose plain-array methods are slower.
   */
  get hasBufferMethods(): boolean {
    return hasBufferMethods(this.handle);
  }

  /**
   * Trains on the given rows. faiss' array path aborts the process when k-means gets fewer
   * points than centroids, so that is checked first.
   */
  async train(flat: Float32Array, dimension: number): Promise<FaissIndex> {
    const rows = flat.length / dimension;
    const { minimum, minimumReason } = trainingNeeds(this.factory);
    if (rows < minimum)
      throw new Error(`cannot train ${this.factory} on ${rows} vectors: it needs at least ${minimumReason}`);
    const native = this.idle("train");
    this.useThreads();
    trainRows(native, flat);
    return this.withSearchParams();
  }

  /** Adds rows laid end to end (see `faiss_native_rows.ts` for how they reach faiss). */
  add(flat: Float32Array, dimension: number): void {
    const native = this.idle("add");
    this.useThreads();
    addRows(native, flat, dimension, this.isGraph);
  }

  /**
   * `add` with faiss's add on a worker thread where the addon has addBufferAsync, else
   * synchronous. `flat` must stay unchanged until it settles, and every other call on this
   * index throws meanwhile. A faiss error rejects it, with faiss's message.
   */
  async addAsync(flat: Float32Array, dimension: number): Promise<void> {
    const native = this.idle("addAsync");
    this.useThreads();
    this.adding = true;
    try {
      await addRowsAsync(native, flat, dimension, this.isGraph);
    } catch (error) {
      throw new Error(
        `faiss could not add ${flat.length / dimension} vectors to ${this.factory}: ${firstLine(error)}`,
        {
          cause: error,
        },
      );
    } finally {
      this.adding = false;
    }
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
    const native = this.idle("search");
    const dimension = native.getDimension();
    if (queries.length % dimension !== 0)
      throw new Error(`queries have ${queries.length} floats, not a whole number of ${dimension}-d rows`);
    const nq = queries.length / dimension;
    const n = Math.min(k, this.size);
    if (n === 0) return Array.from({ length: nq }, () => ({ positions: [], scores: [] }));
    this.useThreads();
    const hits = nq === 1 ? this.onOneThread(() => searchRows(native, queries, n)) : searchRows(native, queries, n);
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
    return this.idle("toBuffer").toBuffer();
  }

  /** HNSW, alone or over other storage: adds insert into a graph (see `addRows`). */
  private get isGraph(): boolean {
    return /HNSW/i.test(this.factory);
  }

  /** The native index, or an error naming `what` while an `addAsync` is in flight (faiss is not thread-safe then). */
  private idle(what: string): Index {
    if (this.adding) {
      throw new Error(
        `FaissIndex ${what} was called while an asynchronous add into this ${this.factory} index is in flight: await the add first (faiss cannot add to an index and read it at once)`,
      );
    }
    return this.handle;
  }

  /**
   * This index with the search parameters set: through ParameterSpace when the addon has
   * it, otherwise a copy with them written into its bytes. Called while the index is empty
   * (at creation, right after training), so that round trip is cheap.
   */
  private withSearchParams(): FaissIndex {
    const native = this.idle("withSearchParams");
    if (hasParameterMethods(native)) {
      applyParams(native, this.tuning);
      return this;
    }
    const bytes = native.toBuffer();
    if (!writeSearchParams(bytes, this.tuning)) return this;
    const { faiss, factory, metric, tuning, runtime } = this;
    return new FaissIndex(faiss, faiss.Index.fromBuffer(bytes), factory, metric, tuning, runtime);
  }

  /**
   * Sets faiss' OpenMP thread count before a call that uses it. The count belongs to the
   * calling thread, not to an index, so it is set before each call: two stores with
   * different `threads` in one process each get theirs. No-op without our addon.
   */
  private useThreads(): void {
    const { threads } = this.runtime;
    const faiss = this.faiss as FaissModule & Partial<ThreadMethods>;
    if (threads !== undefined && typeof faiss.setNumThreads === "function") faiss.setNumThreads(threads);
  }

  /**
   * Runs `work` (one query's search) on one OpenMP thread, then restores the count. faiss
   * 1.7.3 splits searches over queries only, yet its HNSW search opens a parallel region
   * even for one query: the other threads only wait at its barrier, spinning. On this
   * 2-core machine under load that made a 10k-vector HNSW32 query 4-5x slower (p50 16-21 ms
   * against 3-5 ms, 3-4x the CPU). No-op without our addon.
   */
  private onOneThread<T>(work: () => T): T {
    const faiss = this.faiss as FaissModule & Partial<ThreadMethods>;
    if (typeof faiss.setNumThreads !== "function" || typeof faiss.getNumThreads !== "function") return work();
    const before = faiss.getNumThreads();
    if (before === 1) return work();
    faiss.setNumThreads(1);
    try {
      return work();
    } finally {
      faiss.setNumThreads(before);
    }
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

/** The first line of an error's message (faiss's messages run on with a stack of C++ frames). */
function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}
