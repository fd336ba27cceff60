/**
 * The stored vectors of search results, which MMR needs to measure how alike the
 * candidates are. LangChain's `VectorStoreInterface` has no way to ask for them, so a
 * store must offer one of:
 * - `getVectorsById(ids: string[]): Promise<(number[] | undefined)[]>` (ImageFaissStore),
 *   with every search result carrying its `id`;
 * - `memoryVectors` (LangChain's `MemoryVectorStore`): matched by document id, or else
 *   by the metadata object, which that store hands out by reference.
 */
import type { DocumentInterface } from "@langchain/core/documents";

/** A store that can return the vectors it holds for some document ids. */
export interface VectorLookup {
  getVectorsById(ids: string[]): Promise<(number[] | undefined)[]>;
}

interface MemoryVectorLike {
  embedding: number[];
  metadata: Record<string, unknown>;
  id?: string;
}

/** Whether `store` offers a way to look up the vectors of its search results. */
export function canLookUpVectors(store: unknown): boolean {
  return hasVectorLookup(store) || hasMemoryVectors(store);
}

export const VECTOR_LOOKUP_HINT =
  'searchType "mmr" needs the stored vectors of the candidates: use a store with ' +
  "getVectorsById(ids: string[]): Promise<(number[] | undefined)[]> (ImageFaissStore has it) " +
  "or LangChain's MemoryVectorStore";

/** The stored vector of each document, in order. Throws when one cannot be found. */
export async function candidateVectors(store: unknown, docs: DocumentInterface[]): Promise<number[][]> {
  let vectors: (number[] | undefined)[];
  if (hasVectorLookup(store)) {
    const missingId = docs.findIndex((d) => typeof d.id !== "string");
    if (missingId >= 0) {
      throw new Error(
        `${VECTOR_LOOKUP_HINT}; but search result ${missingId} (${docs[missingId].pageContent.slice(0, 80)}) has no id to look up`,
      );
    }
    vectors = await store.getVectorsById(docs.map((d) => d.id!));
  } else if (hasMemoryVectors(store)) {
    const byId = new Map<string, number[]>();
    const byMetadata = new Map<unknown, number[]>();
    for (const m of store.memoryVectors) {
      if (m.id !== undefined) byId.set(m.id, m.embedding);
      byMetadata.set(m.metadata, m.embedding);
    }
    vectors = docs.map((d) => (d.id !== undefined ? byId.get(d.id) : undefined) ?? byMetadata.get(d.metadata));
  } else {
    throw new Error(VECTOR_LOOKUP_HINT);
  }
  return vectors.map((v: unknown, i) => {
    if (!Array.isArray(v) && !(v instanceof Float32Array)) {
      throw new Error(
        `The store returned no vector for search result ${i} (id ${docs[i].id ?? "none"}); ${VECTOR_LOOKUP_HINT}`,
      );
    }
    return Array.from(v);
  });
}

function hasVectorLookup(store: unknown): store is VectorLookup {
  return typeof (store as Partial<VectorLookup> | null)?.getVectorsById === "function";
}

function hasMemoryVectors(store: unknown): store is { memoryVectors: MemoryVectorLike[] } {
  return Array.isArray((store as { memoryVectors?: unknown } | null)?.memoryVectors);
}
