/**
 * Turns weighted query terms into one search vector: the sum of weight × unit vector
 * of each term, scaled to unit length. Texts go through the text tower, images
 * through the image tower, each kind in one batch.
 */
import type { ImageEmbeddingResult } from "../embeddings/image_embeddings.js";
import type { ImageInput } from "../images/image_input.js";
import { normalizeInPlace } from "../utils/vectors.js";
import { QueryError, type ResolvedTerm } from "./query.js";

/** What the retriever needs from its embeddings: `ImageEmbeddings` has all of it. */
export interface ImageEmbeddingsLike {
  embedQuery(text: string): Promise<number[]>;
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedImagesSettled(inputs: ImageInput[]): Promise<ImageEmbeddingResult[]>;
}

/** True when `value` can embed both texts and images the way `ImageEmbeddings` does. */
export function isImageEmbeddingsLike(value: unknown): value is ImageEmbeddingsLike {
  const v = value as Partial<ImageEmbeddingsLike> | undefined;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.embedQuery === "function" &&
    typeof v.embedDocuments === "function" &&
    typeof v.embedImagesSettled === "function"
  );
}

export interface QueryVector {
  /** Unit-length search vector. */
  vector: number[];
  /** Content hashes (SHA-256 hex of the encoded bytes) of the query's image terms, in term order. */
  imageHashes: string[];
}

/**
 * Embeds the terms and combines them. Throws the `ImageInputError` of the first image
 * term that cannot be read, and `QueryError` when the weighted terms cancel out.
 */
export async function embedQueryTerms(embeddings: ImageEmbeddingsLike, terms: ResolvedTerm[]): Promise<QueryVector> {
  const texts = terms.filter((t) => t.text !== undefined);
  const images = terms.filter((t) => t.image !== undefined);
  const textVectors = texts.length > 0 ? await embeddings.embedDocuments(texts.map((t) => t.text!)) : [];
  const imageResults = images.length > 0 ? await embeddings.embedImagesSettled(images.map((t) => t.image!)) : [];
  for (const result of imageResults) if (result.error) throw result.error;

  const parts: [weight: number, vector: number[]][] = [
    ...texts.map((t, i) => [t.weight, textVectors[i]] as [number, number[]]),
    ...images.map((t, i) => [t.weight, imageResults[i].embedding!] as [number, number[]]),
  ];
  const sum: number[] = new Array(parts[0][1].length).fill(0);
  for (const [weight, vector] of parts) {
    if (vector.length !== sum.length) {
      throw new Error(`Query terms embedded to different dimensions (${vector.length} and ${sum.length})`);
    }
    const unit = vector.slice();
    normalizeInPlace(unit);
    for (let i = 0; i < sum.length; i++) sum[i] += weight * unit[i];
  }
  let norm = 0;
  for (const x of sum) norm += x * x;
  if (!(Math.sqrt(norm) > 1e-6)) {
    throw new QueryError("The query terms cancel out: their weighted sum is the zero vector, which matches nothing");
  }
  normalizeInPlace(sum);
  return { vector: sum, imageHashes: imageResults.map((r) => r.image!.contentHash) };
}
