/**
 * What a store's search scores mean, and how they become cosine similarities. LangChain
 * stores disagree: `MemoryVectorStore` and `ImageFaissStore` return similarities (higher
 * is better), community's `FaissStore` squared L2 distances, `PGVectorStore` distances.
 * The retriever ranks and thresholds on one scale, so it converts.
 */

/**
 * - `"similarity"`: higher is better, used as is (cosine for `ImageFaissStore` and `MemoryVectorStore`);
 * - `"squaredL2"`: squared Euclidean distance (community's `FaissStore`, an `IndexFlatL2`);
 * - `"cosineDistance"`: 1 − cosine (`PGVectorStore` with `distanceStrategy: "cosine"`).
 */
export type StoreScoreKind = "similarity" | "squaredL2" | "cosineDistance";

export const STORE_SCORE_KINDS: readonly StoreScoreKind[] = ["similarity", "squaredL2", "cosineDistance"];

/** Stores known by their `_vectorstoreType()` whose scores are not similarities. */
const KNOWN_DISTANCE_STORES: Record<string, StoreScoreKind> = {
  faiss: "squaredL2", // @langchain/community FaissStore
};

/** The score kind of a store, from its `_vectorstoreType()`; `"similarity"` when not known to differ. */
export function detectScoreKind(store: unknown): StoreScoreKind {
  const typeOf = (store as { _vectorstoreType?: () => unknown } | null)?._vectorstoreType;
  if (typeof typeOf !== "function") return "similarity";
  const type = typeOf.call(store);
  return (typeof type === "string" && KNOWN_DISTANCE_STORES[type]) || "similarity";
}

/**
 * A store's score as cosine similarity. The distances are converted assuming unit-length
 * vectors, which `ImageEmbeddings` returns by default: ‖a − b‖² = 2 − 2·cos.
 */
export function toSimilarity(kind: StoreScoreKind, score: number): number {
  if (kind === "squaredL2") return 1 - score / 2;
  if (kind === "cosineDistance") return 1 - score;
  return score;
}
