import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { SynchronousInMemoryDocstore } from "@langchain/classic/stores/doc/in_memory";
import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { ImageEmbeddings } from "../embeddings/image_embeddings.js";
import { ImageBatchError, ImageInputError } from "../errors.js";
import type { ImageInput } from "../images/image_input.js";
import { normalizeInPlace } from "../utils/vectors.js";
import { FaissIndex, ivfListCount, type DistanceMetric, type SearchTuning } from "./faiss_index.js";
import { compileFilter, type MetadataFilter } from "./filter.js";
import { currentVersion, readWholeFile, writeVersion } from "./persistence.js";
import { readPythonFlatIndex } from "./python_interop.js";
import { VectorTable } from "./vector_table.js";

export const MANIFEST_FORMAT = "langchain-image-embeddings/faiss-store";
export const MANIFEST_VERSION = 1;

/** What `save` records about how an index was built; `load` refuses a mismatch. */
export interface StoreManifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  /** The embedding model: a Hub id, or the absolute path of a local model directory. */
  model: string | null;
  dtype: string | null;
  dimension: number;
  metric: DistanceMetric;
  indexType: string;
  /** Whether stored vectors are unit length (always true for the cosine metric). */
  normalized: boolean;
  /** Identity of the projection head applied after the encoder, or null. */
  projectionHead: string | null;
  /** With a head: what it was applied to, the unit-length encoder output. Absent in stores that applied it to the raw output. */
  headInput?: "normalized";
  /** Image-only encoders (ImageEncoderEmbeddings): the pooling that made the vectors. Absent or null for CLIP. */
  pooling?: string | null;
  /** Live entries (deleted ones excluded). */
  count: number;
  savedAt: string;
}

export interface ImageFaissStoreArgs {
  /** "cosine" (inner product on unit vectors) or "l2". Default: `"cosine"`. */
  metric?: DistanceMetric;
  /** A faiss factory string: "Flat", "HNSW32", "IVF256,Flat", "IVF256,PQ32", ... Default: `"Flat"`. */
  indexType?: string;
  /** HNSW: candidates examined per search; higher is slower and more exact. Default: `128`. */
  efSearch?: number;
  /** HNSW: candidates examined per insertion; higher builds slower, better graphs. Default: `40`. */
  efConstruction?: number;
  /** IVF lists probed per query. Default: `8`. */
  nprobe?: number;
  /**
   * IVF only: vectors needed before the index is trained. Until then the store answers
   * with exact search over its vectors, so results are always complete. Default: 39 × nlist
   * (faiss' own minimum for good k-means).
   */
  ivfTrainSize?: number;
  docstore?: SynchronousInMemoryDocstore;
}

export interface AddImagesOptions {
  /** Metadata merged into each image's Document: one object per image, or one for all. */
  metadatas?: Record<string, unknown>[] | Record<string, unknown>;
  /** Ids per image. Default: the content hash, so the same image added twice is one entry. */
  ids?: string[];
  /** Reject at the first bad image, adding nothing from this call. Default: `false`. */
  failFast?: boolean;
}

export interface AddImagesResult {
  /** The id of each input, in input order; undefined where that input failed. */
  ids: (string | undefined)[];
  /** One error per bad input, naming it. The good inputs were added. */
  failures: ImageInputError[];
}

/**
 * Options for `load`. Search parameters (efSearch, nprobe) given here apply to this load
 * only, and the saved file is not changed; those not given keep the values saved with the index.
 */
export type LoadOptions = Omit<ImageFaissStoreArgs, "metric" | "indexType" | "docstore">;

/** A similarity that means the same for every metric: higher is better, 1 is identical. */
type Scored = [Document, number];

/**
 * A FAISS vector store for images (and texts) embedded with `ImageEmbeddings`.
 * It builds on LangChain's `FaissStore` and adds what an image index needs:
 * cosine scores, any faiss index type, upsert by content hash, filters, deletes
 * that work for every index type, and crash-safe, versioned saves.
 *
 * Scores are similarities: cosine similarity in [-1, 1] for the cosine metric, and
 * `1 − ‖a − b‖² / 2` for l2 (the same number for unit vectors). Higher is better.
 *
 * @example
 * ```typescript
 * const store = new ImageFaissStore(new ImageEmbeddings({ model: "Xenova/clip-vit-base-patch32" }));
 * await store.addImages(["photos/beach.jpg", "photos/dog.jpg"]);
 * const [[doc, score]] = await store.similaritySearchWithScore("a dog on a beach", 1);
 * console.log(doc.metadata.source, score.toFixed(3)); // photos/dog.jpg 0.281
 * ```
 */
export class ImageFaissStore extends FaissStore {
  declare FilterType: MetadataFilter;

  static lc_name() {
    return "ImageFaissStore";
  }

  readonly metric: DistanceMetric = "cosine";
  readonly indexType: string = "Flat";
  readonly ivfTrainSize: number | undefined;
  private tuning: SearchTuning = { efSearch: 128, efConstruction: 40, nprobe: 8 };

  private table?: VectorTable;
  private faissIndex?: FaissIndex;
  /** Index position → document id; null marks a deleted position (a tombstone). */
  private positions: (string | null)[] = [];
  private positionOf = new Map<string, number>();
  /** Serialises writes: faiss indexes are not safe to mutate concurrently. */
  private writes: Promise<unknown> = Promise.resolve();
  /** The manifest of the saved version this store was loaded from (undefined for a new store). */
  loadedManifest?: StoreManifest;
  /** FaissStore's `_mapping` (position → id), built from `positions` only when read. */
  private mappingCache?: Record<number, string>;

  constructor(embeddings: EmbeddingsInterface, args: ImageFaissStoreArgs = {}) {
    super(embeddings, { docstore: args.docstore });
    // Rebuilding FaissStore's `_mapping` record on every write made one-at-a-time adds
    // quadratic; it is derived from `positions` when someone reads it.
    Object.defineProperty(this, "_mapping", {
      get: () => (this.mappingCache ??= this.mappingRecord()),
      set: () => {
        throw new TypeError("ImageFaissStore derives _mapping from its own positions; it cannot be assigned");
      },
      configurable: true,
      enumerable: true,
    });
    this.metric = args.metric ?? this.metric;
    if (this.metric !== "cosine" && this.metric !== "l2") {
      throw new TypeError(`Expected "cosine" or "l2" for metric but received ${JSON.stringify(args.metric)}`);
    }
    this.indexType = (args.indexType ?? this.indexType).trim();
    this.tuning = {
      efSearch: args.efSearch ?? this.tuning.efSearch,
      efConstruction: args.efConstruction ?? this.tuning.efConstruction,
      nprobe: args.nprobe ?? this.tuning.nprobe,
    };
    const nlist = ivfListCount(this.indexType);
    this.ivfTrainSize = nlist === undefined ? undefined : (args.ivfTrainSize ?? 39 * nlist);
    if (nlist !== undefined && this.ivfTrainSize! < nlist) {
      throw new RangeError(`ivfTrainSize (${this.ivfTrainSize}) must be at least the number of IVF lists (${nlist})`);
    }
  }

  /**
   * A new store holding `inputs`. Like `embedImages`, it rejects with an
   * `ImageBatchError` naming every bad input; use `addImages` to keep the good ones.
   */
  static async fromImages(
    inputs: ImageInput[],
    embeddings: ImageEmbeddings,
    options: ImageFaissStoreArgs & Omit<AddImagesOptions, "failFast"> = {},
  ): Promise<ImageFaissStore> {
    const store = new this(embeddings, options);
    const { failures } = await store.addImages(inputs, options);
    if (failures.length > 0) throw new ImageBatchError(failures, inputs.length);
    return store;
  }

  _vectorstoreType(): string {
    return "image_faiss";
  }

  /** Number of live entries. */
  get size(): number {
    return this.positionOf.size;
  }

  /** True once an IVF index has been trained; always true for other index types. */
  get isTrained(): boolean {
    return this.ivfTrainSize === undefined || (this.faissIndex?.isTrained ?? false);
  }

  /**
   * Embeds images and stores one Document per image. Its metadata holds `source`
   * (path or URL, when there is one), `contentHash`, `width`, `height`, `format`,
   * `modality: "image"` and the caller's metadata; its `pageContent` is the source,
   * or `image:<hash>` for bytes. Bad images are reported in `failures`, the rest are added.
   */
  async addImages(inputs: ImageInput[], options: AddImagesOptions = {}): Promise<AddImagesResult> {
    const embeddings = this.imageEmbeddings();
    if (options.ids && options.ids.length !== inputs.length) {
      throw new RangeError(`ids has ${options.ids.length} entries but there are ${inputs.length} images`);
    }
    const results = await embeddings.embedImagesSettled(inputs, { failFast: options.failFast });
    const failures = results.flatMap((r) => (r.error ? [r.error] : []));
    if (options.failFast && failures.length > 0) throw failures[0];

    const ids: (string | undefined)[] = inputs.map(() => undefined);
    const vectors: number[][] = [];
    const documents: Document[] = [];
    for (const result of results) {
      if (result.error) continue;
      const { source, contentHash, width, height, format } = result.image;
      const userMetadata = Array.isArray(options.metadatas) ? options.metadatas[result.index] : options.metadatas;
      const id = options.ids?.[result.index] ?? contentHash;
      ids[result.index] = id;
      vectors.push(result.embedding);
      documents.push(
        new Document({
          id,
          pageContent: source ?? `image:${contentHash}`,
          metadata: {
            ...userMetadata,
            modality: "image",
            ...(source ? { source } : {}),
            contentHash,
            width,
            height,
            format,
          },
        }),
      );
    }
    await this.addVectors(vectors, documents, { ids: documents.map((d) => d.id!) });
    return { ids, failures };
  }

  /**
   * Adds vectors with their Documents. An id that is already stored is replaced
   * (upsert). All new vectors go to faiss in a few bulk calls.
   */
  async addVectors(vectors: number[][], documents: Document[], options: { ids?: string[] } = {}): Promise<string[]> {
    if (vectors.length !== documents.length) {
      throw new RangeError(`Got ${vectors.length} vectors but ${documents.length} documents`);
    }
    if (vectors.length === 0) return [];
    const ids = options.ids ?? documents.map((d) => d.id ?? crypto.randomUUID());
    if (ids.length !== vectors.length) throw new RangeError(`Got ${ids.length} ids for ${vectors.length} vectors`);
    return this.serialised(async () => {
      const dimension = this.table?.dimension ?? vectors[0].length;
      const flat = new Float32Array(vectors.length * dimension);
      vectors.forEach((v, i) => {
        if (v.length !== dimension) {
          throw new RangeError(`Vector ${i} has ${v.length} dimensions but the store holds ${dimension}-d vectors`);
        }
        flat.set(v, i * dimension);
        if (this.metric === "cosine") normalizeInPlace(flat.subarray(i * dimension, (i + 1) * dimension));
      });
      // Upsert: the last occurrence of an id wins, earlier ones (stored or in this call) become tombstones.
      const lastIndexOf = new Map(ids.map((id, i) => [id, i]));
      for (const id of lastIndexOf.keys()) this.tombstone(id);
      const keep = ids.map((id, i) => lastIndexOf.get(id) === i);
      const rows = keep.every(Boolean) ? flat : compactRows(flat, keep, dimension);

      this.table ??= new VectorTable(dimension);
      const first = this.table.append(rows);
      let position = first;
      ids.forEach((id, i) => {
        if (!keep[i]) return;
        this.positions[position] = id;
        this.positionOf.set(id, position++);
        this.docstore._docs.set(id, withId(documents[i], id));
      });
      this.mappingCache = undefined;
      await this.indexNewRows(first);
      return ids;
    });
  }

  /** Removes documents by id. Works for every index type; unknown ids are an error. */
  async delete(params: { ids: string[] }): Promise<void> {
    if (!params?.ids) throw new TypeError("Expected { ids: string[] } for delete");
    await this.serialised(async () => {
      const missing = params.ids.filter((id) => !this.positionOf.has(id));
      if (missing.length > 0) throw new Error(`Cannot delete unknown ids: ${missing.join(", ")}`);
      params.ids.forEach((id) => this.tombstone(id));
      this.mappingCache = undefined;
      // Deleted vectors stay in faiss (most index types cannot remove) and are skipped
      // at search time; once they are a quarter of the index, it is rebuilt without them.
      if (this.deletedCount > 0.25 * this.positions.length) await this.rebuild();
    });
  }

  /**
   * The `k` most similar documents with their scores (higher is better). A filter is
   * applied before k is counted: the store fetches more until it has k matches or has
   * seen everything. Asking for more than the store holds returns everything.
   */
  async similaritySearchVectorWithScore(query: number[], k: number, filter?: MetadataFilter): Promise<Scored[]> {
    if (!Number.isInteger(k) || k <= 0) throw new RangeError(`Expected positive integer for k but received ${k}`);
    if (!this.table || this.size === 0) return [];
    if (query.length !== this.table.dimension) {
      throw new RangeError(
        `Query has ${query.length} dimensions but the store holds ${this.table.dimension}-d vectors`,
      );
    }
    const vector = Float32Array.from(query);
    if (this.metric === "cosine") normalizeInPlace(vector);
    const accept = compileFilter(filter);
    const total = this.positions.length;
    let fetch = Math.min(total, k + this.deletedCount);
    for (;;) {
      const { positions, scores } = this.searchPositions(vector, fetch);
      const results: Scored[] = [];
      for (let i = 0; i < positions.length && results.length < k; i++) {
        const id = this.positions[positions[i]];
        if (id === null || id === undefined) continue;
        const document = this.docstore._docs.get(id)!;
        if (accept && !accept(document)) continue;
        results.push([document, scores[i]]);
      }
      if (results.length >= k || fetch >= total) return results;
      fetch = Math.min(total, fetch * 4);
    }
  }

  /** Stored vectors by document id (undefined for unknown ids), e.g. for MMR. */
  async getVectorsById(ids: string[]): Promise<(number[] | undefined)[]> {
    return ids.map((id) => {
      const position = this.positionOf.get(id);
      return position === undefined ? undefined : Array.from(this.table!.row(position));
    });
  }

  /** Every live entry with its vector, in index order. */
  entries(): { id: string; document: Document; vector: Float32Array }[] {
    return [...this.positionOf].map(([id, position]) => ({
      id,
      document: this.docstore._docs.get(id)!,
      vector: this.table!.row(position),
    }));
  }

  /**
   * Saves into `directory` atomically (see `persistence.ts`): a crash or kill at any
   * moment leaves the previous save loadable.
   */
  async save(directory: string): Promise<void> {
    await this.serialised(async () => {
      const dimension = this.table?.dimension ?? (await this.modelDimension());
      if (dimension === undefined) throw new Error("Cannot save an empty store whose embeddings report no dimension");
      const files: Record<string, Buffer | string> = {
        "manifest.json": JSON.stringify(this.manifest(dimension), null, 2),
        "docstore.json": JSON.stringify({
          positions: this.positions,
          documents: [...this.positionOf.keys()].map((id) => {
            const { pageContent, metadata } = this.docstore._docs.get(id)!;
            return { id, pageContent, metadata };
          }),
        }),
        "vectors.f32": this.table?.toBuffer() ?? Buffer.alloc(0),
      };
      if (this.faissIndex?.isTrained && this.faissIndex.size > 0) files["faiss.index"] = this.faissIndex.toBuffer();
      await writeVersion(directory, files);
    });
  }

  /**
   * Loads a store saved by `save`. The embeddings must be the model that built it:
   * a different model or dimension is refused with an error naming both.
   */
  static async load(
    directory: string,
    embeddings: EmbeddingsInterface,
    options: LoadOptions = {},
  ): Promise<ImageFaissStore> {
    // A writer in another process keeps the current and the previous version; a reader
    // that was still reading an older one sees its files vanish, and starts again from
    // the new CURRENT. Each version folder is complete, so what is loaded is never torn.
    for (let attempt = 1; ; attempt++) {
      const version = await currentVersion(directory);
      if (!version) {
        throw new Error(
          `No saved ImageFaissStore in ${resolve(directory)} (no CURRENT file). ` +
            `For a LangChain Python index (index.faiss + index.pkl) use ImageFaissStore.loadFromPython.`,
        );
      }
      try {
        return await this.loadVersion(directory, version, embeddings, options);
      } catch (error) {
        const vanished =
          (error as NodeJS.ErrnoException).code === "ENOENT" && (await currentVersion(directory)) !== version;
        if (!vanished || attempt >= 5) throw error;
      }
    }
  }

  private static async loadVersion(
    directory: string,
    version: string,
    embeddings: EmbeddingsInterface,
    options: LoadOptions,
  ): Promise<ImageFaissStore> {
    const manifest = JSON.parse(await readFile(join(version, "manifest.json"), "utf8")) as StoreManifest;
    if (manifest.format !== MANIFEST_FORMAT)
      throw new Error(`${version}/manifest.json is not an ImageFaissStore manifest`);
    if (manifest.version > MANIFEST_VERSION) {
      throw new Error(
        `${directory} was saved by a newer version (manifest version ${manifest.version}); upgrade langchain-image-embeddings`,
      );
    }
    await checkCompatible(manifest, embeddings, directory);

    const store = new this(embeddings, { ...options, metric: manifest.metric, indexType: manifest.indexType });
    const saved = JSON.parse(await readFile(join(version, "docstore.json"), "utf8")) as {
      positions: (string | null)[];
      documents: { id: string; pageContent: string; metadata: Record<string, unknown> }[];
    };
    store.table = VectorTable.fromBuffer(manifest.dimension, await readWholeFile(join(version, "vectors.f32")));
    store.positions = saved.positions;
    saved.positions.forEach((id, position) => id !== null && store.positionOf.set(id, position));
    for (const d of saved.documents) store.docstore._docs.set(d.id, new Document(d));
    store.mappingCache = undefined;
    // No faiss.index is saved for an empty or untrained index; a version folder removed
    // while we read it is another matter (see `load`).
    const indexFile = join(version, "faiss.index");
    const indexSaved = await stat(indexFile).then(
      () => true,
      async (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT" && (await stat(join(version, "manifest.json")).catch(() => undefined)))
          return false;
        throw error;
      },
    );
    if (indexSaved) {
      // The parameters saved with the index hold unless this load names others.
      const given: Partial<SearchTuning> = {};
      for (const name of ["efSearch", "efConstruction", "nprobe"] as const)
        if (options[name] !== undefined) given[name] = options[name];
      store.tuning = { ...store.tuning, ...(await FaissIndex.savedTuning(indexFile)), ...given };
    }
    store.faissIndex = indexSaved
      ? await FaissIndex.fromFile(indexFile, manifest.indexType, manifest.metric, store.tuning)
      : await FaissIndex.create(manifest.dimension, manifest.indexType, manifest.metric, store.tuning);
    store._index = store.faissIndex.native as never;
    // An index saved before training still trains once enough vectors exist.
    await store.indexNewRows(store.faissIndex.size);
    store.loadedManifest = manifest;
    return store;
  }

  /**
   * Opens an index written by LangChain Python's `FAISS.save_local` (`index.faiss` +
   * `index.pkl`). Its flat index is read with its vectors, so every feature of this
   * store (deletes, filters, saving) works on it. Python's default Euclidean
   * distance becomes the "l2" metric, MAX_INNER_PRODUCT becomes "cosine".
   */
  static async loadFromPython(directory: string, embeddings: EmbeddingsInterface): Promise<ImageFaissStore> {
    const python = await FaissStore.loadFromPython(directory, embeddings);
    const { metric, dimension, vectors } = readPythonFlatIndex(await readWholeFile(join(directory, "index.faiss")));
    const store = new this(embeddings, { metric, indexType: "Flat" });
    const mapping = python.getMapping();
    const count = vectors.length / dimension;
    const documents: Document[] = [];
    const ids: string[] = [];
    for (let position = 0; position < count; position++) {
      const id = mapping[position];
      ids.push(id);
      documents.push(withId(python.getDocstore().search(id), id));
    }
    const rows = Array.from({ length: count }, (_, i) =>
      Array.from(vectors.subarray(i * dimension, (i + 1) * dimension)),
    );
    await store.addVectors(rows, documents, { ids });
    return store;
  }

  /** Merges another ImageFaissStore's entries into this one (upserting by id). */
  async mergeFrom(other: FaissStore): Promise<string[]> {
    if (!(other instanceof ImageFaissStore)) throw new TypeError("mergeFrom needs another ImageFaissStore");
    const entries = other.entries();
    return this.addVectors(
      entries.map((e) => Array.from(e.vector)),
      entries.map((e) => e.document),
      { ids: entries.map((e) => e.id) },
    );
  }

  private get deletedCount(): number {
    return this.positions.length - this.positionOf.size;
  }

  private tombstone(id: string): void {
    const position = this.positionOf.get(id);
    if (position === undefined) return;
    this.positions[position] = null;
    this.positionOf.delete(id);
    this.docstore._docs.delete(id);
  }

  /** Brings faiss up to date with the table from `first` on, training IVF once it has enough vectors. */
  private async indexNewRows(first: number): Promise<void> {
    const table = this.table!;
    this.faissIndex ??= await FaissIndex.create(table.dimension, this.indexType, this.metric, this.tuning);
    if (this.faissIndex.isTrained) {
      this.faissIndex.add(table.gather(range(first, table.size)), table.dimension);
    } else if (this.size >= this.ivfTrainSize!) {
      await this.rebuild();
    }
    this._index = this.faissIndex.native as never;
  }

  /** A fresh index (and table) holding only live vectors, trained first when needed. */
  private async rebuild(): Promise<void> {
    const old = this.table!;
    const live = [...this.positionOf.values()].sort((a, b) => a - b);
    const rows = old.gather(live);
    const ids = live.map((p) => this.positions[p]!);
    this.table = new VectorTable(old.dimension, Math.max(live.length, 1));
    this.table.append(rows);
    this.positions = ids;
    this.positionOf = new Map(ids.map((id, p) => [id, p]));
    this.mappingCache = undefined;
    let index = await FaissIndex.create(old.dimension, this.indexType, this.metric, this.tuning);
    if (!index.isTrained) {
      if (live.length < this.ivfTrainSize!) {
        this.faissIndex = index; // stays untrained; exact search over the table until then
        return;
      }
      index = await index.train(rows, old.dimension);
    }
    index.add(rows, old.dimension);
    this.faissIndex = index;
  }

  /** faiss when it holds every table row; exact search over the table otherwise (untrained IVF). */
  private searchPositions(query: Float32Array, k: number): { positions: number[]; scores: number[] } {
    const table = this.table!;
    if (this.faissIndex?.isTrained && this.faissIndex.size === table.size) return this.faissIndex.search(query, k);
    const scores = new Float32Array(table.size);
    for (let p = 0; p < table.size; p++) scores[p] = similarity(query, table.row(p), this.metric);
    const order = range(0, table.size)
      .sort((a, b) => scores[b] - scores[a])
      .slice(0, k);
    return { positions: order, scores: order.map((p) => scores[p]) };
  }

  private mappingRecord(): Record<number, string> {
    const mapping: Record<number, string> = {};
    this.positions.forEach((id, p) => id !== null && (mapping[p] = id));
    return mapping;
  }

  private manifest(dimension: number): StoreManifest {
    const embeddings = this.embeddings instanceof ImageEmbeddings ? this.embeddings : undefined;
    return {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      model: embeddings ? modelIdentity(embeddings.model) : null,
      dtype: embeddings?.dtype ?? null,
      dimension,
      metric: this.metric,
      indexType: this.indexType,
      normalized: this.metric === "cosine" || (embeddings?.normalize ?? false),
      projectionHead: embeddings?.projectionHead?.id ?? null,
      headInput: embeddings?.projectionHead ? "normalized" : undefined,
      pooling: poolingOf(embeddings),
      count: this.size,
      savedAt: new Date().toISOString(),
    };
  }

  private async modelDimension(): Promise<number | undefined> {
    return this.embeddings instanceof ImageEmbeddings ? this.embeddings.getDimension() : undefined;
  }

  private imageEmbeddings(): ImageEmbeddings {
    if (!(this.embeddings instanceof ImageEmbeddings)) {
      throw new TypeError("addImages needs the store to be built with ImageEmbeddings");
    }
    return this.embeddings;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => undefined);
    return run;
  }
}

/** ImageEncoderEmbeddings' pooling (it has one), or null for CLIP models. */
function poolingOf(embeddings: ImageEmbeddings | undefined): string | null {
  const pooling = (embeddings as { pooling?: unknown } | undefined)?.pooling;
  return typeof pooling === "string" ? pooling : null;
}

/** Local model directories are compared by absolute path, Hub ids as written. */
function modelIdentity(model: string): string {
  return model.startsWith(".") || model.startsWith("/") ? resolve(model) : model;
}

async function checkCompatible(
  manifest: StoreManifest,
  embeddings: EmbeddingsInterface,
  directory: string,
): Promise<void> {
  if (!(embeddings instanceof ImageEmbeddings)) return;
  const model = modelIdentity(embeddings.model);
  if (manifest.model !== null && manifest.model !== model) {
    throw new Error(
      `The index in ${directory} was built with model "${manifest.model}", but these embeddings use "${model}". ` +
        `Vectors from different models are not comparable: load it with the same model, or re-index.`,
    );
  }
  const pooling = poolingOf(embeddings);
  if ((manifest.pooling ?? null) !== pooling) {
    throw new Error(
      `The index in ${directory} was built with pooling "${manifest.pooling ?? "none (CLIP)"}", but these embeddings use "${pooling ?? "none (CLIP)"}". ` +
        `Vectors pooled differently are not comparable: load it with the same pooling, or re-index.`,
    );
  }
  const head = embeddings.projectionHead?.id ?? null;
  if ((manifest.projectionHead ?? null) !== head) {
    const describe = (id: string | null) => (id ? `projection head ${id}` : "no projection head");
    throw new Error(
      `The index in ${directory} was built with ${describe(manifest.projectionHead ?? null)}, but these embeddings use ${describe(head)}. ` +
        `Load it with the same head (ImageEmbeddings' projectionHead option), or re-index.`,
    );
  }
  if (head !== null && manifest.headInput !== "normalized") {
    throw new Error(
      `The index in ${directory} was built by an earlier version that applied projection head ${head} to the raw encoder output. ` +
        `Heads now take the unit-length output they were trained on, so its vectors differ from new ones: re-index it.`,
    );
  }
  const dimension = await embeddings.getDimension();
  if (dimension !== manifest.dimension) {
    throw new Error(
      `The index in ${directory} holds ${manifest.dimension}-d vectors, but model "${model}" makes ${dimension}-d vectors.`,
    );
  }
}

function similarity(a: Float32Array, b: Float32Array, metric: DistanceMetric): number {
  let s = 0;
  if (metric === "cosine") {
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return 1 - s / 2;
}

function withId(document: Document, id: string): Document {
  return document.id === id ? document : new Document({ ...document, id });
}

function compactRows(flat: Float32Array, keep: boolean[], dimension: number): Float32Array {
  const out = new Float32Array(keep.filter(Boolean).length * dimension);
  let r = 0;
  keep.forEach((k, i) => k && out.set(flat.subarray(i * dimension, (i + 1) * dimension), dimension * r++));
  return out;
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}
