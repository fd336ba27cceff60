import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { gaussian } from "../../src/heads/random.js";
import { rng } from "./shapes.js";

/**
 * Unit vectors in clusters, like real image embeddings (which are far from uniform):
 * `clusters` random centres, each point a centre plus Gaussian noise.
 */
export function clusteredVectors(count: number, dimension: number, seed = 1, clusters = 100, noise = 0.05): number[][] {
  const random = rng(seed);
  const gauss = () => gaussian(random);
  const unit = (v: number[]) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const centres = Array.from({ length: clusters }, () => unit(Array.from({ length: dimension }, gauss)));
  return Array.from({ length: count }, () => {
    const c = centres[Math.floor(random() * clusters)];
    return unit(c.map((x) => x + noise * gauss()));
  });
}

export function documentsFor(vectors: number[][], prefix = "v"): { documents: Document[]; ids: string[] } {
  const ids = vectors.map((_, i) => `${prefix}${i}`);
  return { ids, documents: ids.map((id, i) => new Document({ id, pageContent: id, metadata: { i } })) };
}

/** Embeddings for stores fed with precomputed vectors only: any call to them is a test bug. */
export const noEmbeddings = {
  embedQuery: async () => {
    throw new Error("not used");
  },
  embedDocuments: async () => {
    throw new Error("not used");
  },
} as unknown as EmbeddingsInterface;
