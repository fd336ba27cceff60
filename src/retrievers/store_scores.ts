/**
 * What a store's search scores mean, and how they become cosine similarities. LangChain
 * stores disagree: `MemoryVectorStore` and `ImageFaissStore` return similarities (higher
 * is better), community's `FaissStore` squared L2 distances, `PGVectorStore` cosine, L2 or
 * negative inner-product distances (by its `distanceStrategy`).
 * The retriever ranks and thresholds on one scale, so it converts.
 */

/**
 * - `"similarity"`: higher is better, used as is (cosine for `ImageFaissStore` and `MemoryVectorStore`);
 * - `"squaredL2"`: squared Euclidean distance (community's `FaissStore`, an `IndexFlatL2`);
 * - `"cosineDistance"`: 1 − cosine (`PGVectorStore` with `distanceStrategy: "cosine"`, its default);
 * - `"l2Distance"`: Euclidean distance, not squared (`PGVectorStore` with `distanceStrategy: "euclidean"`);
 * - `"negativeInnerProduct"`: −(a·b) (`PGVectorStore` with `distanceStrategy: "innerProduct"`).
 */
export type StoreScoreKind = "similarity" | "squaredL2" | "cosineDistance" | "l2Distance" | "negativeInnerProduct";

export const STORE_SCORE_KINDS: readonly StoreScoreKind[] = [
  "similarity",
  "squaredL2",
  "cosineDistance",
  "l2Distance",
  "negativeInnerProduct",
];

/** Stores known by their `_vectorstoreType()` whose scores are not similarities. */
const KNOWN_DISTANCE_STORES: Record<string, StoreScoreKind> = {
  faiss: "squaredL2", // @langchain/community FaissStore
};

/** What community's `PGVectorStore` returns by `distanceStrategy`, with its default `scoreNormalization: "distance"`. */
const PGVECTOR_DISTANCES: Record<string, StoreScoreKind> = {
  cosine: "cosineDistance", // <=>
  euclidean: "l2Distance", // <->
  innerProduct: "negativeInnerProduct", // <#>
};

/**
 * The score kind of a store, from its `_vectorstoreType()` (and, for community's
 * `PGVectorStore`, its `distanceStrategy` and `scoreNormalization`); `"similarity"` when
 * not known to differ. Throws for a `PGVectorStore` whose scores cannot be turned back
 * into cosines.
 */
export function detectScoreKind(store: unknown): StoreScoreKind {
  const typeOf = (store as { _vectorstoreType?: () => unknown } | null)?._vectorstoreType;
  if (typeof typeOf !== "function") return "similarity";
  const type = typeOf.call(store);
  if (type === "pgvector") return pgvectorScoreKind(store as PgvectorSettings);
  return (typeof type === "string" && KNOWN_DISTANCE_STORES[type]) || "similarity";
}

interface PgvectorSettings {
  distanceStrategy?: unknown;
  scoreNormalization?: unknown;
}

function pgvectorScoreKind({ distanceStrategy = "cosine", scoreNormalization = "distance" }: PgvectorSettings) {
  const strategy = String(distanceStrategy);
  // With "similarity" normalization, innerProduct returns a·b: the cosine of unit vectors.
  if (scoreNormalization === "similarity" && strategy === "innerProduct") return "similarity";
  const kind = scoreNormalization === "distance" ? PGVECTOR_DISTANCES[strategy] : undefined;
  if (!kind) {
    throw new TypeError(
      `Cannot tell the score kind of a PGVectorStore with distanceStrategy ${JSON.stringify(distanceStrategy)} and ` +
        `scoreNormalization ${JSON.stringify(scoreNormalization)}: use scoreNormalization "distance" (its default), ` +
        `or pass scoreKind to the retriever`,
    );
  }
  return kind;
}

/**
 * A store's score as cosine similarity. The distances are converted assuming unit-length
 * vectors, which `ImageEmbeddings` returns by default: ‖a − b‖² = 2 − 2·cos.
 */
export function toSimilarity(kind: StoreScoreKind, score: number): number {
  if (kind === "squaredL2") return 1 - score / 2;
  if (kind === "cosineDistance") return 1 - score;
  if (kind === "l2Distance") return 1 - (score * score) / 2;
  if (kind === "negativeInnerProduct") return -score;
  return score;
}
