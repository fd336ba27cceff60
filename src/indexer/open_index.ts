/**
 * Opens the image index kept in a folder (an `ImageFaissStore` saved there), or starts
 * a new one. An existing index remembers its model, dtype and index type in its
 * manifest, so later commands need no `--model`: they default to what built it.
 */
import { resolve } from "node:path";
import { DEFAULT_MODEL, ImageEmbeddings, type ImageEmbeddingsParams } from "../embeddings/image_embeddings.js";
import type { ModelDtype } from "../models/model_source.js";
import { ImageFaissStore, type StoreManifest } from "../vectorstores/image_faiss_store.js";
import { readCurrentManifest } from "../vectorstores/store_files.js";

export { DEFAULT_INDEX_DIR } from "./defaults.js";

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
}

export interface OpenedIndex {
  /** Absolute path of the index folder. */
  dir: string;
  store: ImageFaissStore;
  embeddings: ImageEmbeddings;
  /** The saved manifest; undefined for a new, never saved index. */
  manifest?: StoreManifest;
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
  const embeddings = new ImageEmbeddings({
    ...options.embeddings,
    model: options.model ?? manifest?.model ?? DEFAULT_MODEL,
    dtype: options.dtype ?? (manifest?.dtype as ModelDtype | null | undefined) ?? undefined,
    batchSize: options.batchSize,
  });
  const store = manifest
    ? await ImageFaissStore.load(absolute, embeddings)
    : new ImageFaissStore(embeddings, { indexType: options.indexType });
  return { dir: absolute, store, embeddings, manifest: store.loadedManifest ?? manifest };
}

/**
 * Opens the index in `dir` for its stored vectors and documents only, without loading
 * (or downloading) its model: enough for duplicates, "more like this" and listings.
 * Embedding anything through it throws.
 */
export async function openIndexVectors(
  dir: string,
): Promise<{ dir: string; store: ImageFaissStore; manifest: StoreManifest }> {
  const absolute = resolve(dir);
  const manifest = await readIndexManifest(absolute);
  if (!manifest) throw new NoIndexError(absolute);
  const noModel = async (): Promise<never> => {
    throw new Error(
      `The index ${absolute} was opened without its model (${manifest.model}); nothing can be embedded through it`,
    );
  };
  const store = await ImageFaissStore.load(absolute, { embedQuery: noModel, embedDocuments: noModel });
  // The manifest of the version actually loaded: a writer may have saved a newer one meanwhile.
  return { dir: absolute, store, manifest: store.loadedManifest ?? manifest };
}
