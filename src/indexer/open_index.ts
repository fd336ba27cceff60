/**
 * Opens the image index kept in a folder (an `ImageFaissStore` saved there), or starts
 * a new one. An existing index remembers its model, dtype and index type in its
 * manifest, so later commands need no `--model`: they default to what built it. It also
 * remembers where its vectors live (`vectorsOnDisk`), and its faiss index keeps its search
 * parameters (efSearch, nprobe); options given here override them for this opening.
 */
import { resolve } from "node:path";
import { DEFAULT_MODEL, ImageEmbeddings, type ImageEmbeddingsParams } from "../embeddings/image_embeddings.js";
import type { ModelDtype } from "../models/model_source.js";
import {
  ImageFaissStore,
  type ImageFaissStoreArgs,
  type LoadOptions,
  type StoreManifest,
} from "../vectorstores/image_faiss_store.js";
import { readCurrentManifest } from "../vectorstores/store_files.js";

export { DEFAULT_INDEX_DIR } from "./defaults.js";

/**
 * How the store indexes and searches (see `IndexOptions`): for a new index, how it is
 * built; for an existing one, load options, which override the saved search parameters
 * (efSearch, nprobe) and the saved vector placement for this opening, and reach the saved
 * index with its next save. `threads` also caps the model's onnxruntime threads, unless
 * `embeddings.threads` says otherwise. `trainSize` and `rerank` are saved in the store's
 * manifest and likewise overridden by options given here.
 */
export type IndexStoreOptions = Pick<
  ImageFaissStoreArgs,
  "efSearch" | "efConstruction" | "nprobe" | "trainSize" | "rerank" | "threads" | "vectorsOnDisk"
>;

export interface OpenIndexOptions {
  /** Model for a new index. Default: the index's own model, else `"Xenova/clip-vit-base-patch32"`. */
  model?: string;
  /** Weight precision. Default: the index's own dtype, else `"fp32"`. */
  dtype?: ModelDtype;
  /** faiss index type of a new index ("Flat", "HNSW32", "IVF256,Flat", ...). Default: the index's own, else `"Flat"`. */
  indexType?: string;
  /** Images or texts per model call. Default: `16`. */
  batchSize?: number;
  /** Any other `ImageEmbeddings` option (threads, cacheDir, localFilesOnly, allowRemote, ...). */
  embeddings?: Omit<ImageEmbeddingsParams, "model" | "dtype" | "batchSize">;
  /** Start an empty index when the folder holds none; otherwise that is an error. Default: `false`. */
  create?: boolean;
  /** Build options of a new index, load options of an existing one. Default: the store's, and what the index saved. */
  store?: IndexStoreOptions;
}

export interface OpenedIndex {
  /** Absolute path of the index folder. */
  dir: string;
  store: ImageFaissStore;
  embeddings: ImageEmbeddings;
  /** The saved manifest; undefined for a new, never saved index. */
  manifest?: StoreManifest;
  /** The options the store was loaded with, to load a newer version the same way (empty for a new index). */
  loadOptions: LoadOptions;
  /**
   * True when `store` options change what the saved index holds (its search parameters, or
   * where its vectors live): a writer should save it even when no entry changed.
   */
  changesSaved: boolean;
}

/** There is no saved index in the folder. */
export class NoIndexError extends Error {
  override name = "NoIndexError";

  constructor(readonly indexDir: string) {
    super(`No image index in ${indexDir}. Build one with: image-embeddings index <folder> --index ${indexDir}`);
  }
}

/** The manifest of the index saved in `dir`, or undefined when it holds none. */
export async function readIndexManifest(dir: string): Promise<StoreManifest | undefined> {
  return readCurrentManifest(dir);
}

/** Opens the index in `dir` with the embeddings that built it (see `OpenIndexOptions`). */
export async function openImageIndex(dir: string, options: OpenIndexOptions = {}): Promise<OpenedIndex> {
  const absolute = resolve(dir);
  const manifest = await readIndexManifest(absolute);
  if (!manifest && !options.create) throw new NoIndexError(absolute);
  if (manifest && options.indexType !== undefined && options.indexType.trim() !== manifest.indexType) {
    throw new Error(
      `The index in ${absolute} is a "${manifest.indexType}" index, not "${options.indexType}". ` +
        `The index type is chosen when an index is created: use another --index folder, or delete this one to rebuild it.`,
    );
  }
  const settings = options.store ?? {};
  const embeddings = new ImageEmbeddings({
    threads: settings.threads,
    ...options.embeddings,
    model: options.model ?? manifest?.model ?? DEFAULT_MODEL,
    dtype: options.dtype ?? (manifest?.dtype as ModelDtype | null | undefined) ?? undefined,
    batchSize: options.batchSize,
  });
  if (!manifest) {
    const store = new ImageFaissStore(embeddings, { ...settings, indexType: options.indexType });
    return { dir: absolute, store, embeddings, loadOptions: {}, changesSaved: false };
  }
  const loadOptions = savedLoadOptions(manifest, settings);
  const store = await ImageFaissStore.load(absolute, embeddings, loadOptions);
  const changesSaved =
    settings.efSearch !== undefined ||
    settings.efConstruction !== undefined ||
    settings.nprobe !== undefined ||
    settings.rerank !== undefined ||
    settings.trainSize !== undefined ||
    loadOptions.vectorsOnDisk !== keepsVectorsOnDisk(manifest);
  return { dir: absolute, store, embeddings, manifest: store.loadedManifest ?? manifest, loadOptions, changesSaved };
}

/** `settings` as load options, the vectors staying where the index keeps them unless `vectorsOnDisk` says otherwise. */
function savedLoadOptions(manifest: StoreManifest, settings: IndexStoreOptions): LoadOptions {
  return { ...settings, vectorsOnDisk: settings.vectorsOnDisk ?? keepsVectorsOnDisk(manifest) };
}

/** Whether the saved index keeps its vectors in `vectors/` files (saved with `vectorsOnDisk`). */
function keepsVectorsOnDisk(manifest: StoreManifest): boolean {
  return manifest.vectorFiles !== undefined;
}

/**
 * Opens the index in `dir` for its stored vectors and documents only, without loading
 * (or downloading) its model: enough for duplicates, "more like this" and listings.
 * Embedding anything through it throws. `store` options are load options, as for `openImageIndex`.
 */
export async function openIndexVectors(
  dir: string,
  options: Pick<OpenIndexOptions, "store"> = {},
): Promise<{ dir: string; store: ImageFaissStore; manifest: StoreManifest }> {
  const absolute = resolve(dir);
  const manifest = await readIndexManifest(absolute);
  if (!manifest) throw new NoIndexError(absolute);
  const noModel = async (): Promise<never> => {
    throw new Error(
      `The index ${absolute} was opened without its model (${manifest.model}); nothing can be embedded through it`,
    );
  };
  const store = await ImageFaissStore.load(
    absolute,
    { embedQuery: noModel, embedDocuments: noModel },
    savedLoadOptions(manifest, options.store ?? {}),
  );
  // The manifest of the version actually loaded: a writer may have saved a newer one meanwhile.
  return { dir: absolute, store, manifest: store.loadedManifest ?? manifest };
}
