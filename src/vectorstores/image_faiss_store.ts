import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { SaveableVectorStore } from "@langchain/core/vectorstores";
import type { Index } from "faiss-node";
import { ImageEmbeddings } from "../embeddings/image_embeddings.js";
import { ImageBatchError } from "../errors.js";
import type { ImageInput } from "../images/image_input.js";
import { addImagesToStore, type AddImagesToStoreOptions, type AddImagesToStoreResult } from "./add_images_to_store.js";
import type { DistanceMetric } from "./faiss_index.js";
import { compileFilter, type MetadataFilter } from "./filter.js";
import {
  checkDimensions,
  IndexedTable,
  packRows,
  resolveIndexOptions,
  type IndexConfig,
  type IndexOptions,
} from "./indexed_table.js";
import { PositionMap } from "./position_map.js";
import { readPythonFaissFolder } from "./python_interop.js";
import { buildManifest, checkCompatible, type StoreManifest } from "./store_manifest.js";
import { readStore, writeStore, type SavedDocument } from "./store_files.js";

export { MANIFEST_FORMAT, MANIFEST_VERSION, type StoreManifest } from "./store_manifest.js";

/** How the store indexes its vectors: metric, faiss index type and its search parameters. */
export type ImageFaissStoreArgs = IndexOptions;

/** Options for `addImages`: metadata, ids (default: the content hash) and failFast, as for `addImagesToStore`. */
export type AddImagesOptions = AddImagesToStoreOptions;

/** The id of each input (undefined where it failed) and one error per bad input. */
export type AddImagesResult = AddImagesToStoreResult;

/**
 * Options for `load`. Search parameters (efSearch, nprobe) given here apply to this load
 * only, and the saved file is not changed; those not given keep the values saved with the index.
 * `vectorsOnDisk` reads the saved vectors in place instead of into memory, whichever way
 * they were saved. (`vectorsDir` is for new stores: a loaded one writes into its folder.)
 */
export type LoadOptions = Omit<ImageFaissStoreArgs, "metric" | "indexType" | "vectorsDir">;

/** A similarity that means the same for every metric: higher is better, 1 is identical. */
type Scored = [Document, number];

/**
 * A FAISS vector store for images (and texts) embedded with `ImageEmbeddings`, built
 * on LangChain's `SaveableVectorStore`: cosine scores, any faiss index type, upsert by
 * content hash, filters, deletes that work for every index type, and crash-safe,
 * versioned saves. This class is the LangChain API; the work is done by `PositionMap`
 * (ids and tombstones), `IndexedTable` (vectors and faiss), `store_manifest.ts` and
 * `store_files.ts` (what is saved, and how).
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
export class ImageFaissStore extends SaveableVectorStore {
  declare FilterType: MetadataFilter;

  static lc_name() {
    return "ImageFaissStore";
  }

  /** "cosine" or "l2". */
  readonly metric: DistanceMetric;
  /** The faiss factory string, e.g. "Flat" or "HNSW32". */
  readonly indexType: string;
  /**
   * Index types that need training (IVF, PQ, OPQ, SQ8...): live vectors gathered before the
   * index is trained, and the most it trains on. Undefined for types that need none.
   */
  readonly trainSize: number | undefined;
  /** True when the store's vectors live in files, read on demand (see `IndexOptions.vectorsOnDisk`). */
  readonly vectorsOnDisk: boolean;
  /** The manifest of the saved version this store was loaded from (undefined for a new store). */
  loadedManifest?: StoreManifest;
  private config: IndexConfig;
  /** Created with the first vectors, when their dimension is known. */
  private table?: IndexedTable;
  private positions = new PositionMap();
  private documents = new Map<string, Document>();
  /** Serialises writes: faiss indexes are not safe to mutate concurrently. */
  private writes: Promise<unknown> = Promise.resolve();
  /**
   * The last add or delete (settled either way). faiss adds on a worker thread and cannot be
   * searched meanwhile, and a delete's rebuild renumbers positions before its new index is
   * filled, so reads of the index or vectors await it: a search issued during a bulk add
   * answers once that add is done, with its vectors.
   */
  private changes: Promise<unknown> = Promise.resolve();

  constructor(embeddings: EmbeddingsInterface, args: ImageFaissStoreArgs = {}) {
    super(embeddings, args);
    this.config = resolveIndexOptions(args);
    ({ metric: this.metric, indexType: this.indexType, vectorsOnDisk: this.vectorsOnDisk } = this.config);
    this.trainSize = this.config.needsTraining ? this.config.trainSize : undefined;
  }

  /** @deprecated The old name of `trainSize`, from when only IVF was trained. */
  get ivfTrainSize(): number | undefined {
    return this.trainSize;
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

  static async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    args: ImageFaissStoreArgs = {},
  ): Promise<ImageFaissStore> {
    const documents = texts.map(
      (pageContent, i) =>
        new Document({ pageContent, metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) ?? {} }),
    );
    return this.fromDocuments(documents, embeddings, args);
  }

  static async fromDocuments(
    documents: Document[],
    embeddings: EmbeddingsInterface,
    args: ImageFaissStoreArgs = {},
  ): Promise<ImageFaissStore> {
    const store = new this(embeddings, args);
    await store.addDocuments(documents);
    return store;
  }

  _vectorstoreType(): string {
    return "image_faiss";
  }

  /** Number of live entries. */
  get size(): number {
    return this.positions.size;
  }

  /** True once an index that needs training (IVF, PQ, SQ8...) has been trained; always true for the others. */
  get isTrained(): boolean {
    return this.table?.isTrained ?? !this.config.needsTraining;
  }

  /**
   * Embeds images and stores one Document per image. Its metadata holds `source`
   * (path or URL, when there is one), `contentHash`, `width`, `height`, `format`,
   * `modality: "image"` and the caller's metadata; its `pageContent` is the source,
   * or `image:<hash>` for bytes. Bad images are reported in `failures`, the rest are added.
   */
  async addImages(inputs: ImageInput[], options: AddImagesOptions = {}): Promise<AddImagesResult> {
    if (!(this.embeddings instanceof ImageEmbeddings)) {
      throw new TypeError("addImages needs the store to be built with ImageEmbeddings");
    }
    // The same Documents and ids as for any other store; addVectors upserts them by id.
    return addImagesToStore(this, inputs, options);
  }

  /** Embeds the Documents' text and adds them (see `addVectors`). */
  async addDocuments(documents: Document[], options: { ids?: string[] } = {}): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /**
   * Adds vectors with their Documents. An id that is already stored is replaced
   * (upsert). New vectors go to faiss in bulk: large adds in chunks, faiss adding one on a
   * worker thread while the next is packed (see `IndexedTable.appendVectors`). Searches
   * issued meanwhile wait for the add. When faiss fails, the add rejects and the entries stay as they were.
   *
   * `vectors` is LangChain's `number[][]`, or one `Float32Array` holding the vectors end to
   * end (`documents.length × dimension` floats), e.g. a batch of embeddings as a model or a
   * file hands them over. The Float32Array is copied, never kept; it is the faster form for
   * bulk loads of precomputed embeddings, as no `number[]` per vector need exist.
   */
  async addVectors(
    vectors: number[][] | Float32Array,
    documents: Document[],
    options: { ids?: string[] } = {},
  ): Promise<string[]> {
    const count = documents.length;
    if (!(vectors instanceof Float32Array) && vectors.length !== count) {
      throw new RangeError(`Got ${vectors.length} vectors but ${count} documents`);
    }
    if (count === 0) {
      if (vectors.length > 0) throw new RangeError(`Got a Float32Array of ${vectors.length} floats but no documents`);
      return [];
    }
    const ids = options.ids ?? documents.map((d) => d.id ?? crypto.randomUUID());
    if (ids.length !== count) throw new RangeError(`Got ${ids.length} ids for ${count} vectors`);
    const run = this.serialised(async () => {
      const dimension =
        this.table?.dimension ?? (vectors instanceof Float32Array ? vectors.length / count : vectors[0].length);
      if (vectors instanceof Float32Array) checkFlatRows(vectors, count, dimension, this.table !== undefined);
      else checkDimensions(vectors, dimension);
      this.table ??= await IndexedTable.create(dimension, this.config);
      // Upsert: the last of repeated ids wins, and (once the rows are in) a stored id's old
      // position becomes a tombstone; a failed append leaves the old entries in place.
      const keep = PositionMap.keepLast(ids);
      let position = await this.table.appendVectors(vectors, keep);
      this.positions.tombstoneStored(ids);
      for (let i = 0; i < count; i++) {
        if (keep && !keep[i]) continue;
        const id = ids[i];
        this.positions.assign(id, position++);
        this.documents.set(id, documents[i].id === id ? documents[i] : new Document({ ...documents[i], id }));
      }
      if (this.table.readyToTrain(this.size)) await this.compact();
      return ids;
    });
    this.changes = run.catch(() => undefined);
    return run;
  }

  /** Removes documents by id. Works for every index type; unknown ids are an error. */
  async delete(params: { ids: string[] }): Promise<void> {
    if (!params?.ids) throw new TypeError("Expected { ids: string[] } for delete");
    const run = this.serialised(async () => {
      const missing = params.ids.filter((id) => !this.positions.has(id));
      if (missing.length > 0) throw new Error(`Cannot delete unknown ids: ${missing.join(", ")}`);
      params.ids.forEach((id) => this.tombstone(id));
      // Deleted vectors stay in faiss (most index types cannot remove) and are skipped
      // at search time; once they are a quarter of the index, it is rebuilt without them.
      if (this.positions.deletedCount > 0.25 * this.positions.length) await this.compact();
    });
    this.changes = run.catch(() => undefined);
    await run;
  }

  /**
   * The `k` most similar documents with their scores (higher is better). A filter is
   * applied before k is counted: the store fetches more until it has k matches or has
   * seen everything. Asking for more than the store holds returns everything.
   */
  async similaritySearchVectorWithScore(query: number[], k: number, filter?: MetadataFilter): Promise<Scored[]> {
    if (!Number.isInteger(k) || k <= 0) throw new RangeError(`Expected positive integer for k but received ${k}`);
    await this.changesDone();
    if (!this.table || this.size === 0) return [];
    const { dimension } = this.table;
    if (query.length !== dimension) {
      throw new RangeError(`Query has ${query.length} dimensions but the store holds ${dimension}-d vectors`);
    }
    const vector = packRows([query], dimension, this.metric);
    const accept = compileFilter(filter);
    const total = this.positions.length;
    for (let fetch = Math.min(total, k + this.positions.deletedCount); ; fetch = Math.min(total, fetch * 4)) {
      const { positions, scores } = this.table.search(vector, fetch);
      const results: Scored[] = [];
      for (let i = 0; i < positions.length && results.length < k; i++) {
        const id = this.positions.idAt(positions[i]);
        const document = id === undefined ? undefined : this.documents.get(id)!;
        if (document && (!accept || accept(document))) results.push([document, scores[i]]);
      }
      if (results.length >= k || fetch >= total) return results;
    }
  }

  /** Stored vectors by document id (undefined for unknown ids), e.g. for MMR. */
  async getVectorsById(ids: string[]): Promise<(number[] | undefined)[]> {
    await this.changesDone();
    const positions = ids.map((id) => this.positions.positionOf(id));
    const found = positions.filter((p) => p !== undefined);
    const rows = found.length > 0 ? this.table!.gather(found) : new Float32Array(0);
    const dimension = this.table?.dimension ?? 0;
    let next = 0;
    return positions.map((p) =>
      p === undefined ? undefined : Array.from(rows.subarray(next * dimension, ++next * dimension)),
    );
  }

  /**
   * Every live entry, in insertion order. An entry's `vector` is read when first asked
   * for (from disk with `vectorsOnDisk`): listing ids and documents reads no vectors.
   * It is the id's vector at that moment; read it before the store changes. Synchronous, it
   * lists what the store holds now: an add still in flight is not in it (await the add).
   */
  entries(): { id: string; document: Document; vector: Float32Array }[] {
    const vectorOf = (id: string) => {
      const position = this.positions.positionOf(id);
      if (position === undefined) throw new Error(`Entry "${id}" was deleted before its vector was read`);
      return this.table!.row(position);
    };
    return [...this.positions.keys()].map((id) => {
      let vector: Float32Array | undefined;
      return {
        id,
        document: this.documents.get(id)!,
        get vector() {
          return (vector ??= vectorOf(id));
        },
      };
    });
  }

  /**
   * With `vectorsOnDisk`, reads the vector files through once, in large sequential pieces
   * off the event loop, so that re-ranking, MMR and duplicate finding then find their rows
   * in the operating system's page cache rather than paying a disk read (about 0.1 ms)
   * per row. Worth calling after a load on a machine whose free memory can hold the files;
   * it adds nothing to RSS, and the kernel drops the pages again under memory pressure.
   * Resolves to the bytes read (0 when the vectors are in memory anyway).
   */
  async prefetchVectors(): Promise<number> {
    await this.changesDone();
    return (await this.table?.prefetchVectors()) ?? 0;
  }

  /**
   * The faiss-node index, as LangChain's FaissStore has it. Its positions include deleted
   * entries: search the store instead. Throws while an add is in flight (await `addVectors`).
   */
  get index(): Index {
    if (!this.table) throw new Error("The store holds no vectors yet, so it has no faiss index");
    return this.table.nativeIndex;
  }

  /** Index position → id of every live entry, as LangChain's FaissStore has it. */
  getMapping(): Record<number, string> {
    return this.positions.toRecord();
  }

  /** Saves into `directory` atomically: a crash or kill at any moment leaves the previous save loadable. */
  async save(directory: string): Promise<void> {
    await this.serialised(async () => {
      const image = this.embeddings instanceof ImageEmbeddings ? this.embeddings : undefined;
      const dimension = this.table?.dimension ?? (await image?.getDimension());
      if (dimension === undefined) throw new Error("Cannot save an empty store whose embeddings report no dimension");
      const { metric, indexType } = this;
      // Vector files are made durable first; the manifest naming them is the commit.
      const vectors = (await this.table?.prepareVectors(directory)) ?? { bytes: Buffer.alloc(0) };
      const vectorFiles = "files" in vectors ? vectors.files : undefined;
      await writeStore(directory, {
        manifest: buildManifest(this.embeddings, {
          dimension,
          metric,
          indexType,
          count: this.size,
          vectorFiles,
          storeOptions: { rerank: this.config.rerank, trainSize: this.trainSize },
        }),
        positions: this.positions.toJSON(),
        documents: savedDocuments(this.documents),
        documentCount: this.documents.size,
        vectors: "bytes" in vectors ? vectors.bytes : undefined,
        vectorFilesInUse: this.table?.vectorFilesInUse(directory),
        index: this.table?.indexBytes(),
      });
    });
  }

  /**
   * Loads a store saved by `save`; with `{ vectorsOnDisk: true }` its vectors are read in
   * place, never whole. The embeddings must be the model that built it:
   * another model, pooling, projection head or dimension is refused with an
   * `IncompatibleIndexError` naming both. `rerank` and `trainSize` default to the values it
   * was saved with.
   */
  static async load(
    directory: string,
    embeddings: EmbeddingsInterface,
    options: LoadOptions = {},
  ): Promise<ImageFaissStore> {
    const check = (manifest: StoreManifest, file: string) => checkCompatible(manifest, embeddings, directory, file);
    const { vectorsOnDisk } = resolveIndexOptions(options);
    return readStore(
      directory,
      check,
      async (saved) => {
        const { metric, indexType } = saved.manifest;
        const store = new this(embeddings, { ...withSavedOptions(options, saved.manifest), metric, indexType });
        store.positions = new PositionMap(saved.positions);
        for (const d of saved.documents) store.documents.set(d.id, new Document(d));
        store.table = await IndexedTable.restore(saved.vectors, saved.indexFile, store.config, options);
        // An index saved before training still trains once enough vectors exist.
        if (store.table.readyToTrain(store.size)) await store.compact();
        store.loadedManifest = saved.manifest;
        return store;
      },
      { vectorsOnDisk },
    );
  }

  /**
   * Opens an index written by LangChain Python's `FAISS.save_local` (`index.faiss` +
   * `index.pkl`). Its flat index is read with its vectors, so every feature of this
   * store (deletes, filters, saving) works on it. Python's default Euclidean
   * distance becomes the "l2" metric, MAX_INNER_PRODUCT becomes "cosine".
   */
  static async loadFromPython(directory: string, embeddings: EmbeddingsInterface): Promise<ImageFaissStore> {
    const { metric, dimension, vectors, documents } = await readPythonFaissFolder(directory);
    const store = new this(embeddings, { metric, indexType: "Flat" });
    await store.addVectors(vectors.subarray(0, documents.length * dimension), documents, {
      ids: documents.map((d) => d.id!),
    });
    return store;
  }

  /** Merges another ImageFaissStore's entries into this one (upserting by id). */
  async mergeFrom(other: ImageFaissStore): Promise<string[]> {
    if (!(other instanceof ImageFaissStore)) throw new TypeError("mergeFrom needs another ImageFaissStore");
    const entries = other.entries();
    // Its rows end to end, handed over as one Float32Array: no number[] per vector.
    const dimension = entries[0]?.vector.length ?? 0;
    const flat = new Float32Array(entries.length * dimension);
    entries.forEach((e, i) => flat.set(e.vector, i * dimension));
    return this.addVectors(
      flat,
      entries.map((e) => e.document),
      { ids: entries.map((e) => e.id) },
    );
  }

  private tombstone(id: string): void {
    if (this.positions.tombstone(id)) this.documents.delete(id);
  }

  /** Rebuilds the table and index from the live vectors, renumbering their positions. */
  private async compact(): Promise<void> {
    await this.table!.rebuild(this.positions.compact());
  }

  /**
   * Resolves once no add or delete is in flight, so the index and vectors can be read. Every
   * append and rebuild runs inside an add or delete, so `changes` covers them.
   */
  private async changesDone(): Promise<void> {
    await this.changes;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => undefined);
    return run;
  }
}

/**
 * Throws unless `flat` holds `count` vectors end to end: of `dimension` floats when the store
 * `holds` vectors already, else of any whole number of floats (`dimension` is then inferred).
 */
function checkFlatRows(flat: Float32Array, count: number, dimension: number, holds: boolean): void {
  if (holds ? flat.length === count * dimension : Number.isInteger(dimension) && dimension > 0) return;
  const expected = holds ? `${count} × ${dimension} = ${count * dimension} floats` : `a multiple of ${count} floats`;
  throw new RangeError(
    `Got a Float32Array of ${flat.length} floats for ${count} documents: expected ${expected} (one vector per document, end to end)`,
  );
}

/** The documents as saved, one at a time. */
/**
 * Load options with the saved `rerank` and `trainSize` filled in where the load gives none,
 * so a store saved with `rerank: 200` is not searched without it after a load.
 */
function withSavedOptions(options: LoadOptions, manifest: StoreManifest): LoadOptions {
  const saved = manifest.storeOptions;
  if (!saved) return options;
  const givesTrainSize = options.trainSize !== undefined || options.ivfTrainSize !== undefined;
  return {
    ...options,
    rerank: options.rerank ?? saved.rerank,
    trainSize: givesTrainSize ? options.trainSize : saved.trainSize,
  };
}

function* savedDocuments(documents: Map<string, Document>): Iterable<SavedDocument> {
  for (const [id, { pageContent, metadata }] of documents) yield { id, pageContent, metadata };
}
