/**
 * Images into any LangChain vector store. A store's own `addDocuments` / `fromDocuments`
 * would embed the text of each path with the text tower; this embeds the images with
 * the image tower and hands the store vectors with Documents.
 */
import type { VectorStoreInterface } from "@langchain/core/vectorstores";
import type { EmbedImagesOptions, ImageEmbeddingResult } from "../embeddings/image_embeddings.js";
import type { ImageInputError } from "../errors.js";
import type { ImageInput } from "../images/image_input.js";
import { checkImageDocumentOptions, imageDocuments, type ImageDocumentOptions } from "./image_documents.js";

export interface AddImagesToStoreOptions extends ImageDocumentOptions {
  /** Reject with the first bad image's error, adding nothing from this call. Default: `false`. */
  failFast?: boolean;
}

export interface AddImagesToStoreResult {
  /**
   * The id of each input, in input order; undefined where that input failed. These are
   * the ids the store returned from `addVectors` when it returned one per Document,
   * else the ids it was given.
   */
  ids: (string | undefined)[];
  /** One error per bad input, naming it. The good inputs were added. */
  failures: ImageInputError[];
}

/** What this needs from a store's embeddings: `ImageEmbeddings` (and `ImageEncoderEmbeddings`) have it. */
interface SettlingEmbeddings {
  embedImagesSettled(inputs: ImageInput[], options?: EmbedImagesOptions): Promise<ImageEmbeddingResult[]>;
}

/**
 * Embeds `inputs` with the store's `ImageEmbeddings` and adds one Document per image
 * with `store.addVectors(vectors, documents, { ids })`. Each Document has `id`,
 * `pageContent` = the source (path or URL), or `image:<contentHash>` for bytes, and
 * metadata `source`, `contentHash`, `width`, `height`, `format`, `modality: "image"`
 * plus the caller's `metadatas`; `MultimodalRetriever` relies on `contentHash` to leave
 * a query image out of its own results.
 *
 * Ids: by default each image's content hash, so a store that upserts by id (community's
 * `FaissStore` does not, `ImageFaissStore` does) keeps one entry per image.
 * `idFormat: "uuid"` makes a UUID from the hash instead, for stores that require UUIDs
 * (`PGVectorStore`); `ids` gives your own. Stores that ignore `options.ids` read
 * `Document.id` (`MemoryVectorStore`), which is set to the same id.
 *
 * Bad inputs do not stop the good ones: they come back in `failures`, each naming its
 * input, unless `failFast` is set.
 *
 * @example
 * ```typescript
 * const store = new MemoryVectorStore(new ImageEmbeddings({ model: "Xenova/clip-vit-base-patch32" }));
 * const { ids, failures } = await addImagesToStore(store, ["photos/cat.jpg", "photos/missing.jpg"]);
 * console.log(ids.map((id) => id?.length), failures[0].message);
 * // [ 64, undefined ] Cannot embed image photos/missing.jpg: no such file
 * ```
 */
export async function addImagesToStore(
  store: VectorStoreInterface,
  inputs: ImageInput[],
  options: AddImagesToStoreOptions = {},
): Promise<AddImagesToStoreResult> {
  const embeddings = checkStore(store);
  if (!Array.isArray(inputs)) throw new TypeError(`Expected an array for inputs but received ${typeof inputs}`);
  checkImageDocumentOptions(options, inputs.length);

  const results = await embeddings.embedImagesSettled(inputs, { failFast: options.failFast });
  const batch = imageDocuments(results, inputs.length, options);
  if (options.failFast && batch.failures.length > 0) throw batch.failures[0];
  if (batch.documents.length === 0) return { ids: batch.ids, failures: batch.failures };

  const given = batch.documents.map((d) => d.id!);
  const returned = await store.addVectors(batch.vectors, batch.documents, { ids: given });
  const ids = batch.ids;
  if (Array.isArray(returned) && returned.length === given.length && returned.every((id) => typeof id === "string")) {
    // The store chose its own ids: report those, in input order.
    const chosen = new Map(given.map((id, i) => [id, returned[i]]));
    ids.forEach((id, i) => (ids[i] = id === undefined ? undefined : chosen.get(id)));
  }
  return { ids, failures: batch.failures };
}

function checkStore(store: VectorStoreInterface): SettlingEmbeddings {
  if (typeof store !== "object" || store === null || typeof store.addVectors !== "function") {
    throw new TypeError(
      `Expected a LangChain vector store (with addVectors) for store but received ${store === null ? "null" : typeof store}`,
    );
  }
  const embeddings = store.embeddings as Partial<SettlingEmbeddings> | undefined;
  if (typeof embeddings?.embedImagesSettled !== "function") {
    const name = (embeddings as object | undefined)?.constructor?.name ?? typeof embeddings;
    throw new TypeError(
      `addImagesToStore needs a vector store whose embeddings is an ImageEmbeddings, so that images are embedded ` +
        `with the image tower; this store's embeddings is ${name}, which has no embedImagesSettled(). ` +
        `Create the store with new ImageEmbeddings({ model: ... }).`,
    );
  }
  return embeddings as SettlingEmbeddings;
}
