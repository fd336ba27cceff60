/**
 * The manifest saved with every ImageFaissStore version: how its vectors were made
 * (model, dtype, pooling, projection head, dimension) and indexed (metric, index type).
 * `load` compares it with the embeddings it is given and refuses a mismatch with an
 * `IncompatibleIndexError`, since vectors from different models are not comparable.
 */
import { resolve } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { ImageEmbeddings } from "../embeddings/image_embeddings.js";
import { IncompatibleIndexError } from "../errors.js";
import type { DistanceMetric } from "./faiss_index.js";
import type { VectorFileRef } from "./vector_table.js";

export const MANIFEST_FORMAT = "langchain-image-embeddings/faiss-store";
/**
 * The newest manifest version this library reads and writes. Version 3 keeps the vectors
 * in `vectors/` files listed in `vectorFiles` (a store with `vectorsOnDisk`); version 2
 * keeps its entries in docstore.jsonl and its vectors in the version folder's
 * `vectors.f32`; version 1 had docstore.json (both still read). A library that knows only
 * earlier versions refuses a newer one by name, so a save that needs no `vectorFiles`
 * writes version 2.
 */
export const MANIFEST_VERSION = 3;

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
  /**
   * With a head: what it was applied to, the unit-length encoder output. Absent in stores
   * saved by earlier versions, which applied heads to the raw output.
   */
  headInput?: "normalized";
  /** Image-only encoders (ImageEncoderEmbeddings): the pooling that made the vectors. Absent or null for CLIP. */
  pooling?: string | null;
  /** Live entries (deleted ones excluded). */
  count: number;
  /**
   * Version 3: the files of `<store>/vectors/` holding the vector rows, in position order,
   * with the rows of each that this version holds (later rows, of an unsaved append, are
   * ignored). Absent before version 3, whose rows are the version folder's `vectors.f32`.
   */
  vectorFiles?: VectorFileRef[];
  /**
   * Store options that live outside the faiss index file but shape answers and rebuilds; a
   * load that does not give them gets these. Absent in stores saved by earlier versions.
   */
  storeOptions?: SavedStoreOptions;
  savedAt: string;
}

/** What a loaded store keeps from the options it was saved with (see `StoreManifest.storeOptions`). */
export interface SavedStoreOptions {
  /** Candidates re-scored exactly per query (0: off). */
  rerank: number;
  /** The most vectors a rebuild trains on, for index types that train. */
  trainSize?: number;
}

/** The manifest of a store about to be saved. Embeddings other than ImageEmbeddings record no model. */
export function buildManifest(
  embeddings: EmbeddingsInterface,
  index: {
    dimension: number;
    metric: DistanceMetric;
    indexType: string;
    count: number;
    vectorFiles?: VectorFileRef[];
    storeOptions?: SavedStoreOptions;
  },
): StoreManifest {
  const image = embeddings instanceof ImageEmbeddings ? embeddings : undefined;
  return {
    format: MANIFEST_FORMAT,
    version: index.vectorFiles ? MANIFEST_VERSION : 2,
    model: image ? modelIdentity(image.model) : null,
    dtype: image?.dtype ?? null,
    dimension: index.dimension,
    metric: index.metric,
    indexType: index.indexType,
    normalized: index.metric === "cosine" || (image?.normalize ?? false),
    projectionHead: image?.projectionHead?.id ?? null,
    headInput: image?.projectionHead ? "normalized" : undefined,
    pooling: poolingOf(image),
    count: index.count,
    vectorFiles: index.vectorFiles,
    storeOptions: index.storeOptions,
    savedAt: new Date().toISOString(),
  };
}

/**
 * Refuses a store these embeddings cannot open: a `file` that is not our manifest, one
 * written by a newer version of this library, or vectors unlike what the embeddings
 * make (another model, pooling, projection head or dimension). Embeddings other than
 * ImageEmbeddings say nothing about their model, so only the format is checked for them.
 */
export async function checkCompatible(
  manifest: StoreManifest,
  embeddings: EmbeddingsInterface,
  directory: string,
  file: string,
): Promise<void> {
  if (manifest?.format !== MANIFEST_FORMAT) {
    throw new IncompatibleIndexError(
      directory,
      "format",
      typeof manifest?.format === "string" ? manifest.format : null,
      MANIFEST_FORMAT,
      `${file} is not an ImageFaissStore manifest`,
    );
  }
  if (manifest.version > MANIFEST_VERSION) {
    throw new IncompatibleIndexError(
      directory,
      "version",
      manifest.version,
      MANIFEST_VERSION,
      `${directory} was saved by a newer version (manifest version ${manifest.version}); upgrade langchain-image-embeddings`,
    );
  }
  if (!(embeddings instanceof ImageEmbeddings)) return;
  const model = modelIdentity(embeddings.model);
  if (manifest.model !== null && manifest.model !== model) {
    throw new IncompatibleIndexError(
      directory,
      "model",
      manifest.model,
      model,
      `The index in ${directory} was built with model "${manifest.model}", but these embeddings use "${model}". ` +
        `Vectors from different models are not comparable: load it with the same model, or re-index.`,
    );
  }
  const savedPooling = manifest.pooling ?? null;
  const pooling = poolingOf(embeddings);
  if (savedPooling !== pooling) {
    throw new IncompatibleIndexError(
      directory,
      "pooling",
      savedPooling,
      pooling,
      `The index in ${directory} was built with pooling "${savedPooling ?? "none (CLIP)"}", but these embeddings use "${pooling ?? "none (CLIP)"}". ` +
        `Vectors pooled differently are not comparable: load it with the same pooling, or re-index.`,
    );
  }
  const savedHead = manifest.projectionHead ?? null;
  const head = embeddings.projectionHead?.id ?? null;
  if (savedHead !== head) {
    const describe = (id: string | null) => (id ? `projection head ${id}` : "no projection head");
    throw new IncompatibleIndexError(
      directory,
      "projectionHead",
      savedHead,
      head,
      `The index in ${directory} was built with ${describe(savedHead)}, but these embeddings use ${describe(head)}. ` +
        `Load it with the same head (ImageEmbeddings' projectionHead option), or re-index.`,
    );
  }
  if (head !== null && manifest.headInput !== "normalized") {
    throw new IncompatibleIndexError(
      directory,
      "headInput",
      manifest.headInput ?? "raw",
      "normalized",
      `The index in ${directory} was built by an earlier version that applied projection head ${head} to the raw encoder output. ` +
        `Heads now take the unit-length output they were trained on, so its vectors differ from new ones: re-index it.`,
    );
  }
  const dimension = await embeddings.getDimension();
  if (dimension !== manifest.dimension) {
    throw new IncompatibleIndexError(
      directory,
      "dimension",
      manifest.dimension,
      dimension,
      `The index in ${directory} holds ${manifest.dimension}-d vectors, but model "${model}" makes ${dimension}-d vectors.`,
    );
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
