import {
  CallbackManager,
  parseCallbackConfigArg,
  type CallbackManagerForRetrieverRun,
} from "@langchain/core/callbacks/manager";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import { BaseRetriever, type BaseRetrieverInput } from "@langchain/core/retrievers";
import { ensureConfig, type RunnableConfig } from "@langchain/core/runnables";
import { maximalMarginalRelevance } from "@langchain/core/utils/math";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";
import { VECTOR_LOOKUP_HINT, canLookUpVectors, candidateVectors } from "./candidate_vectors.js";
import { readImageDataUri } from "./image_data.js";
import { describeQuery, normalizeQuery, type MultimodalQuery } from "./query.js";
import { embedQueryTerms, isImageEmbeddingsLike, type ImageEmbeddingsLike } from "./query_vector.js";
import { STORE_SCORE_KINDS, detectScoreKind, toSimilarity, type StoreScoreKind } from "./store_scores.js";

export interface MultimodalRetrieverInput<
  V extends VectorStoreInterface = VectorStoreInterface,
> extends BaseRetrieverInput {
  /**
   * The store to search. Its `embeddings` must be an `ImageEmbeddings` (anything with
   * `embedQuery`, `embedDocuments` and `embedImagesSettled`), and its
   * `similaritySearchVectorWithScore` must score by similarity, higher is better:
   * cosine for `ImageFaissStore` and for `MemoryVectorStore`. `searchType: "mmr"` also
   * needs the stored vectors: `getVectorsById(ids)` (ImageFaissStore) or `memoryVectors`
   * (MemoryVectorStore). Stores that score by distance work too: see `scoreKind`.
   */
  vectorStore: V;
  /**
   * What the store's scores are: `"similarity"` (higher is better), `"squaredL2"`
   * (community's `FaissStore`), or `PGVectorStore`'s distances: `"cosineDistance"`,
   * `"l2Distance"`, `"negativeInnerProduct"`. Distances are turned into cosine similarity
   * (for unit-length vectors, as `ImageEmbeddings` makes them), so ranking,
   * `scoreThreshold` and `metadata.score` mean the same on every store. Default: detected
   * from the store: `"squaredL2"` for a store whose `_vectorstoreType()` is `"faiss"`, the
   * kind matching a `PGVectorStore`'s `distanceStrategy` (`"cosineDistance"` by default),
   * else `"similarity"`.
   */
  scoreKind?: StoreScoreKind;
  /** How many documents to return (fewer only when the store holds fewer matches). Default: `4`. */
  k?: number;
  /**
   * Drop results whose score is below this, i.e. cosine similarity for the stores above
   * (-1 to 1; CLIP text-image pairs rarely exceed 0.4, image-image pairs often do).
   * Applied before MMR. Default: none.
   */
  scoreThreshold?: number;
  /** Passed unchanged to the store's search, in the store's own filter format. Default: none. */
  filter?: V["FilterType"];
  /**
   * `"similarity"`: the `k` nearest. `"mmr"`: maximal marginal relevance, `k` picked from
   * the `fetchK` nearest to be relevant yet unlike each other. Default: `"similarity"`.
   */
  searchType?: "similarity" | "mmr";
  /** MMR only: how many nearest candidates MMR chooses from; at least `k`. Default: `20`. */
  fetchK?: number;
  /** MMR only: 1 = pure relevance, 0 = pure diversity. Default: `0.5`. */
  lambda?: number;
  /**
   * For queries with image terms: drop results whose `metadata.contentHash` equals the
   * content hash (SHA-256 of the bytes) of a query image, so "more like this photo"
   * does not return the photo itself. More candidates are fetched so `k` still come back.
   * Works on any store whose Documents carry `contentHash`, as `ImageFaissStore.addImages`
   * and `addImagesToStore` write them. Default: `true`.
   */
  excludeQueryImage?: boolean;
  /**
   * Attach `metadata.imageDataUri` (`data:image/png;base64,...`) read from each result's
   * `metadata.source`, for multimodal chat models. A result whose image cannot be read
   * gets `metadata.imageDataError` (the reason) instead. Callbacks and tracers receive
   * the documents with their data URIs. Default: `false`.
   */
  includeImageData?: boolean;
  /** With `includeImageData`: larger images get `imageDataError` instead of a data URI. Default: 20 MiB. */
  imageDataMaxBytes?: number;
}

/** Search settings that can be changed per copy with `withSearchOptions`. */
export type MultimodalSearchOptions<V extends VectorStoreInterface = VectorStoreInterface> = Partial<
  Omit<MultimodalRetrieverInput<V>, "vectorStore">
>;

/**
 * A LangChain retriever over an image vector store that takes text, image and mixed
 * queries:
 * - `"a red circle"`: text to image, through CLIP's text tower;
 * - `{ image: "photos/cat.jpg" }` (any `ImageInput`): image to image;
 * - query arithmetic: `"image:./photo.jpg + snow - people"`,
 *   `{ positive: [{ image: photo }, "snow"], negative: ["people"] }` or
 *   `{ terms: [{ text: "red circle", weight: 1 }, { image: buf, weight: 0.5 }] }`:
 *   the sum of weight × unit vector of each term, scaled to unit length (see `query.ts`).
 *
 * Results are copies of the store's documents with `metadata.score` (cosine similarity
 * to the query) and `metadata.source`, best first.
 *
 * @example
 * ```typescript
 * const embeddings = new ImageEmbeddings({ model: "Xenova/clip-vit-base-patch32" });
 * const store = await ImageFaissStore.fromImages(["a.jpg", "b.jpg", "c.jpg"], embeddings);
 * const retriever = new MultimodalRetriever({ vectorStore: store, k: 2 });
 * const docs = await retriever.invoke("image:a.jpg + snow");
 * console.log(docs.map((d) => [d.metadata.source, d.metadata.score.toFixed(2)]));
 * // [ [ 'c.jpg', '0.81' ], [ 'b.jpg', '0.64' ] ]   (a.jpg itself is excluded)
 * ```
 */
export class MultimodalRetriever<V extends VectorStoreInterface = VectorStoreInterface> extends BaseRetriever {
  static lc_name() {
    return "MultimodalRetriever";
  }

  lc_namespace = ["langchain_image_embeddings", "retrievers"];

  vectorStore: V;
  scoreKind: StoreScoreKind;
  k = 4;
  scoreThreshold?: number;
  filter?: V["FilterType"];
  searchType: "similarity" | "mmr" = "similarity";
  fetchK = 20;
  lambda = 0.5;
  excludeQueryImage = true;
  includeImageData = false;
  imageDataMaxBytes = 20 * 1024 * 1024;

  private readonly fields: MultimodalRetrieverInput<V>;

  constructor(fields: MultimodalRetrieverInput<V>) {
    super(fields);
    if (typeof fields !== "object" || fields === null) {
      throw new TypeError(
        `Expected an options object with vectorStore but received ${fields === null ? "null" : typeof fields}`,
      );
    }
    this.fields = { ...fields };
    this.vectorStore = checkStore(fields.vectorStore);
    this.scoreKind = fields.scoreKind ?? detectScoreKind(this.vectorStore);
    if (!STORE_SCORE_KINDS.includes(this.scoreKind)) {
      throw new TypeError(
        `Expected one of ${STORE_SCORE_KINDS.map((k) => `"${k}"`).join(", ")} for scoreKind but received ${JSON.stringify(fields.scoreKind)}`,
      );
    }
    this.k = checkPositiveInteger("k", fields.k ?? this.k);
    if (fields.scoreThreshold !== undefined) {
      if (typeof fields.scoreThreshold !== "number" || !Number.isFinite(fields.scoreThreshold)) {
        throw new TypeError(
          `Expected a finite number for scoreThreshold but received ${String(fields.scoreThreshold)} of type ${typeof fields.scoreThreshold}`,
        );
      }
      this.scoreThreshold = fields.scoreThreshold;
    }
    this.filter = fields.filter;
    this.searchType = fields.searchType ?? this.searchType;
    if (this.searchType !== "similarity" && this.searchType !== "mmr") {
      throw new TypeError(
        `Expected "similarity" or "mmr" for searchType but received ${JSON.stringify(fields.searchType)}`,
      );
    }
    this.fetchK = checkPositiveInteger("fetchK", fields.fetchK ?? this.fetchK);
    this.lambda = fields.lambda ?? this.lambda;
    if (typeof this.lambda !== "number" || !(this.lambda >= 0 && this.lambda <= 1)) {
      throw new TypeError(
        `Expected a number from 0 to 1 for lambda but received ${String(fields.lambda)} of type ${typeof fields.lambda}`,
      );
    }
    if (this.searchType === "mmr") {
      if (this.fetchK < this.k) {
        throw new TypeError(
          `Expected fetchK >= k for searchType "mmr" but received fetchK ${this.fetchK} and k ${this.k}`,
        );
      }
      if (!canLookUpVectors(this.vectorStore)) throw new TypeError(`${VECTOR_LOOKUP_HINT}; this store has neither`);
    }
    this.excludeQueryImage = checkBoolean("excludeQueryImage", fields.excludeQueryImage ?? this.excludeQueryImage);
    this.includeImageData = checkBoolean("includeImageData", fields.includeImageData ?? this.includeImageData);
    this.imageDataMaxBytes = checkPositiveInteger(
      "imageDataMaxBytes",
      fields.imageDataMaxBytes ?? this.imageDataMaxBytes,
    );
  }

  /** The store's embeddings, checked at construction to embed both texts and images. */
  get embeddings(): ImageEmbeddingsLike {
    return this.vectorStore.embeddings as unknown as ImageEmbeddingsLike;
  }

  /** A copy over the same store with some search options replaced, e.g. `withSearchOptions({ k: 10 })`. */
  withSearchOptions(options: MultimodalSearchOptions<V>): MultimodalRetriever<V> {
    return new MultimodalRetriever<V>({ ...this.fields, ...options, vectorStore: this.vectorStore });
  }

  /**
   * Runs a query: a string (query syntax), `{ text }`, `{ image }` or an arithmetic
   * object. Callbacks and tracing see a short description of the query, never image bytes.
   */
  override async invoke(input: MultimodalQuery, options?: RunnableConfig): Promise<DocumentInterface[]> {
    const config = ensureConfig(parseCallbackConfigArg(options));
    const callbackManager = await CallbackManager.configure(
      config.callbacks,
      this.callbacks,
      config.tags,
      this.tags,
      config.metadata,
      this.metadata,
      { verbose: this.verbose },
    );
    const runManager = await callbackManager?.handleRetrieverStart(
      this.toJSON(),
      describeQuery(input),
      config.runId,
      undefined,
      undefined,
      undefined,
      config.runName,
    );
    try {
      const results = await this._getRelevantDocuments(input, runManager);
      await runManager?.handleRetrieverEnd(results);
      return results;
    } catch (error) {
      await runManager?.handleRetrieverError(error);
      throw error;
    }
  }

  override async _getRelevantDocuments(
    query: MultimodalQuery,
    _runManager?: CallbackManagerForRetrieverRun,
  ): Promise<DocumentInterface[]> {
    const terms = normalizeQuery(query);
    const { vector, imageHashes } = await embedQueryTerms(this.embeddings, terms);
    const excluded = new Set(this.excludeQueryImage ? imageHashes : []);
    const wanted = this.searchType === "mmr" ? this.fetchK : this.k;

    let candidates = await this.nearest(vector, wanted, excluded);
    if (this.scoreThreshold !== undefined) candidates = candidates.filter(([, score]) => score >= this.scoreThreshold!);
    if (this.searchType === "mmr" && candidates.length > 0) {
      const vectors = await candidateVectors(
        this.vectorStore,
        candidates.map(([doc]) => doc),
      );
      const picked = maximalMarginalRelevance(vector, vectors, this.lambda, this.k);
      candidates = picked.map((i) => candidates[i]);
    } else {
      candidates = candidates.slice(0, this.k);
    }

    const results = candidates.map(([doc, score]) => {
      // A copy: the store's own document (and metadata object) is left as it was.
      const metadata: Record<string, unknown> = { ...doc.metadata, score };
      return new Document({ pageContent: doc.pageContent, metadata, id: doc.id });
    });
    if (this.includeImageData) {
      // One at a time: each may be a large file or a download.
      for (const doc of results) {
        const read = await readImageDataUri(doc.metadata.source, this.imageDataMaxBytes);
        if (read.dataUri !== undefined) doc.metadata.imageDataUri = read.dataUri;
        else doc.metadata.imageDataError = read.error;
      }
    }
    return results;
  }

  /**
   * The `wanted` nearest results that are not query images, best first. When some
   * results are query images, asks the store again for more until `wanted` remain or
   * the store has no more.
   */
  private async nearest(
    vector: number[],
    wanted: number,
    excluded: Set<string>,
  ): Promise<[DocumentInterface, number][]> {
    let ask = wanted + excluded.size;
    for (;;) {
      const found = await this.vectorStore.similaritySearchVectorWithScore(vector, ask, this.filter);
      // Stable sort, best first: stores are not all strict about the order of ties.
      const sorted = found
        .map(
          ([doc, score], i) => [[doc, toSimilarity(this.scoreKind, score)] as [DocumentInterface, number], i] as const,
        )
        .sort((a, b) => b[0][1] - a[0][1] || a[1] - b[1])
        .map(([r]) => r);
      const kept = excluded.size === 0 ? sorted : sorted.filter(([doc]) => !excluded.has(doc.metadata?.contentHash));
      if (kept.length >= wanted || found.length < ask) return kept.slice(0, wanted);
      ask += wanted - kept.length;
    }
  }
}

function checkStore<V extends VectorStoreInterface>(store: V): V {
  if (typeof store !== "object" || store === null || typeof store.similaritySearchVectorWithScore !== "function") {
    throw new TypeError(
      `Expected a LangChain vector store for vectorStore but received ${store === null ? "null" : typeof store}`,
    );
  }
  if (!isImageEmbeddingsLike(store.embeddings)) {
    const name = (store.embeddings as object | undefined)?.constructor?.name ?? typeof store.embeddings;
    throw new TypeError(
      `MultimodalRetriever needs a vector store whose embeddings is an ImageEmbeddings, so that image ` +
        `queries can be embedded with the same model as the stored images; this store's embeddings is ${name}, ` +
        `which has no embedImagesSettled(). Create the store with new ImageEmbeddings({ model: ... }).`,
    );
  }
  return store;
}

function checkPositiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`Expected positive integer for ${name} but received ${String(value)} of type ${typeof value}`);
  }
  return value;
}

function checkBoolean(name: string, value: boolean): boolean {
  if (typeof value !== "boolean")
    throw new TypeError(`Expected a boolean for ${name} but received ${String(value)} of type ${typeof value}`);
  return value;
}
