/**
 * Embedded images → the Documents, vectors and ids a vector store is given. One shape
 * for every store, so that `MultimodalRetriever` (exclude-self by `contentHash`, results
 * with `source`) works the same on any of them.
 */
import { Document } from "@langchain/core/documents";
import type { ImageEmbeddingResult, ImageInfo } from "../embeddings/image_embeddings.js";
import type { ImageInputError } from "../errors.js";

/**
 * How ids are made when none are given:
 * - `"contentHash"`: the SHA-256 of the image (64 hex digits), so the same image is the
 *   same id, and a store that upserts by id keeps one entry per image;
 * - `"uuid"`: a UUID made from that hash (`uuidFromContentHash`), for stores whose ids
 *   must be UUIDs, such as `PGVectorStore`; just as deterministic.
 */
export type ImageIdFormat = "contentHash" | "uuid";

export interface ImageDocumentOptions {
  /** Metadata merged into each image's Document: one object per image, or one for all. Default: none. */
  metadatas?: Record<string, unknown>[] | Record<string, unknown>;
  /** Ids per image, in input order. Default: made from each image's content hash, see `idFormat`. */
  ids?: string[];
  /** How ids are made when `ids` is not given. Default: `"contentHash"`. */
  idFormat?: ImageIdFormat;
}

/** The store-ready part of a settled batch, and what failed. */
export interface ImageDocumentBatch {
  /** The id of each input, in input order; undefined where that input failed. */
  ids: (string | undefined)[];
  /** One per embedded image, in input order, aligned with `documents`. */
  vectors: number[][];
  documents: Document[];
  /** One error per bad input, naming it. */
  failures: ImageInputError[];
}

/** Throws a RangeError or TypeError when `options` cannot apply to `count` inputs. */
export function checkImageDocumentOptions(options: ImageDocumentOptions, count: number): void {
  if (options.ids !== undefined) {
    if (!Array.isArray(options.ids))
      throw new TypeError(`Expected an array for ids but received ${typeof options.ids}`);
    if (options.ids.length !== count) {
      throw new RangeError(`ids has ${options.ids.length} entries but there are ${count} images`);
    }
    const bad = options.ids.findIndex((id) => typeof id !== "string" || id === "");
    if (bad >= 0)
      throw new TypeError(`Expected a non-empty string for ids[${bad}] but received ${String(options.ids[bad])}`);
  }
  if (Array.isArray(options.metadatas) && options.metadatas.length !== count) {
    throw new RangeError(`metadatas has ${options.metadatas.length} entries but there are ${count} images`);
  }
  const format = options.idFormat;
  if (format !== undefined && format !== "contentHash" && format !== "uuid") {
    throw new TypeError(`Expected "contentHash" or "uuid" for idFormat but received ${JSON.stringify(format)}`);
  }
}

/**
 * The Document for one embedded image. `pageContent` is its source (path or URL), or
 * `image:<contentHash>` for bytes; metadata is the caller's, then `modality: "image"`,
 * `source` (when there is one), `contentHash`, `width`, `height` and `format`, which
 * the caller's metadata cannot override.
 */
export function imageDocument(image: ImageInfo, id: string, metadata?: Record<string, unknown>): Document {
  const { source, contentHash, width, height, format } = image;
  return new Document({
    id,
    pageContent: source ?? `image:${contentHash}`,
    metadata: {
      ...metadata,
      modality: "image",
      ...(source ? { source } : {}),
      contentHash,
      width,
      height,
      format,
    },
  });
}

/** Splits `embedImagesSettled` results into Documents and vectors for the good inputs, and the failures. */
export function imageDocuments(
  results: ImageEmbeddingResult[],
  count: number,
  options: ImageDocumentOptions = {},
): ImageDocumentBatch {
  const ids: (string | undefined)[] = new Array(count).fill(undefined);
  const vectors: number[][] = [];
  const documents: Document[] = [];
  const failures: ImageInputError[] = [];
  for (const result of results) {
    if (result.error) {
      failures.push(result.error);
      continue;
    }
    const metadata = Array.isArray(options.metadatas) ? options.metadatas[result.index] : options.metadatas;
    const id = options.ids?.[result.index] ?? imageId(result.image.contentHash, options.idFormat);
    ids[result.index] = id;
    vectors.push(result.embedding);
    documents.push(imageDocument(result.image, id, metadata));
  }
  return { ids, vectors, documents, failures };
}

function imageId(contentHash: string, format: ImageIdFormat = "contentHash"): string {
  return format === "uuid" ? uuidFromContentHash(contentHash) : contentHash;
}

/**
 * A UUID made from a SHA-256 hex content hash: its first 128 bits, with the version set
 * to 8 and the RFC 9562 variant, the layout RFC 9562 gives for hash-based custom UUIDs.
 * The same hash always gives the same UUID, so re-adding an image finds its entry.
 */
export function uuidFromContentHash(contentHash: string): string {
  if (!/^[0-9a-f]{64}$/i.test(contentHash)) {
    throw new TypeError(`Expected a SHA-256 hex digest (64 hex digits) but received ${JSON.stringify(contentHash)}`);
  }
  const hex = contentHash.slice(0, 32).toLowerCase().split("");
  hex[12] = "8"; // version 8
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16); // variant 10xx
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
