/**
 * Queries over a folder index, shared by the CLI and the web page: search by text,
 * image or query arithmetic (through `MultimodalRetriever`), "more like this" from a
 * stored vector, and near-duplicate groups (through `findDuplicates`). Results carry
 * every path that holds an image's content.
 */
import type { DocumentInterface } from "@langchain/core/documents";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";
import { findDuplicates } from "../retrievers/find_duplicates.js";
import { MultimodalRetriever } from "../retrievers/multimodal_retriever.js";
import type { MultimodalQuery } from "../retrievers/query.js";
import type { ImageFaissStore } from "../vectorstores/image_faiss_store.js";
import { DEFAULT_DUPLICATE_THRESHOLD } from "./defaults.js";
import { uuidFromContentHash } from "../vectorstores/image_documents.js";
import { pathsOf } from "../vectorstores/image_paths.js";

export interface SearchHit {
  /** 1 for the best match. */
  rank: number;
  /** Cosine similarity to the query (higher is better). */
  score: number;
  /**
   * The entry's id: the SHA-256 of the image's bytes for entries made by the folder indexer,
   * in a FAISS folder and in pgvector alike (where the row's uuid is made from it).
   */
  id: string;
  /** The first path holding this content (or the entry's source). */
  path: string;
  /** Every indexed path holding this content. */
  paths: string[];
  width?: number;
  height?: number;
}

export interface SearchIndexOptions {
  /** How many results. Default: `10`. */
  k?: number;
  /** Leave out results scoring below this cosine similarity. Default: none. */
  threshold?: number;
}

/** Searches with any `MultimodalRetriever` query: text, `{ image }`, arithmetic string or object; any image store (FAISS, pgvector). */
export async function searchIndex(
  store: VectorStoreInterface,
  query: MultimodalQuery,
  options: SearchIndexOptions = {},
): Promise<SearchHit[]> {
  const retriever = new MultimodalRetriever({
    vectorStore: store,
    k: options.k ?? 10,
    scoreThreshold: options.threshold,
  });
  const documents = await retriever.invoke(query);
  return documents.map((d, i) => toHit(d, d.metadata.score as number, i + 1));
}

/** "More like this": the entries nearest to a stored entry's vector, the entry itself left out. */
export async function similarToEntry(
  store: ImageFaissStore,
  id: string,
  options: SearchIndexOptions = {},
): Promise<SearchHit[]> {
  const [vector] = await store.getVectorsById([id]);
  if (!vector) throw new RangeError(`No entry with id ${id} in the index`);
  const k = options.k ?? 10;
  const found = await store.similaritySearchVectorWithScore(vector, k + 1);
  return found
    .filter(([d]) => d.id !== id)
    .filter(([, score]) => options.threshold === undefined || score >= options.threshold)
    .slice(0, k)
    .map(([d, score], i) => toHit(d, score, i + 1));
}

export interface DuplicateImage {
  id: string;
  /** Every indexed path with this exact content. */
  paths: string[];
}

export interface IndexDuplicateGroup {
  images: DuplicateImage[];
  /** Number of files in the group (an image stored at two paths counts twice). */
  files: number;
  /** Highest and lowest cosine similarity among linked pairs; 1 for exact copies. */
  maxSimilarity: number;
  minSimilarity: number;
}

export { DEFAULT_DUPLICATE_THRESHOLD };

/**
 * Groups of near-duplicate images: entries whose vectors are at least `threshold`
 * similar (transitively, see `findDuplicates`), plus files with byte-identical
 * content, which the index stores as one entry with several paths. Largest first.
 */
export function duplicateGroups(
  store: ImageFaissStore,
  threshold = DEFAULT_DUPLICATE_THRESHOLD,
): IndexDuplicateGroup[] {
  const entries = store.entries().filter((e) => e.document.metadata?.modality !== "text");
  const groups = findDuplicates(
    entries.map((e) => ({ id: e.id, vector: e.vector, doc: e.document })),
    threshold,
  );
  const grouped = new Set(groups.flatMap((g) => g.items.map((item) => item.id)));
  const result: IndexDuplicateGroup[] = groups.map((g) => {
    const images = g.items
      .map((item) => ({ id: item.id, paths: pathsOfDocument(item.doc!) }))
      .sort((a, b) => (a.paths[0] ?? "").localeCompare(b.paths[0] ?? ""));
    const exactCopies = images.some((image) => image.paths.length > 1);
    return {
      images,
      files: images.reduce((n, image) => n + image.paths.length, 0),
      maxSimilarity: exactCopies ? 1 : g.maxSimilarity,
      minSimilarity: g.minSimilarity,
    };
  });
  for (const e of entries) {
    const paths = pathsOfDocument(e.document);
    if (paths.length > 1 && !grouped.has(e.id)) {
      result.push({ images: [{ id: e.id, paths }], files: paths.length, maxSimilarity: 1, minSimilarity: 1 });
    }
  }
  return result.sort(
    (a, b) => b.files - a.files || (a.images[0].paths[0] ?? "").localeCompare(b.images[0].paths[0] ?? ""),
  );
}

/** Every path of an entry: the indexer's `paths`, else its `source`. */
export function pathsOfDocument(document: DocumentInterface): string[] {
  const paths = pathsOf(document);
  if (paths) return paths;
  const source = document.metadata?.source;
  return typeof source === "string" ? [source] : [];
}

function toHit(document: DocumentInterface, score: number, rank: number): SearchHit {
  const paths = pathsOfDocument(document);
  const { width, height } = document.metadata ?? {};
  return {
    rank,
    score,
    id: entryId(document),
    path: paths[0] ?? document.pageContent,
    paths,
    ...(typeof width === "number" ? { width } : {}),
    ...(typeof height === "number" ? { height } : {}),
  };
}

/**
 * The id a hit reports: the content hash for a pgvector row keyed by the UUID made from
 * it, so that every store gives the same id for the same image; else the entry's own id.
 */
function entryId(document: DocumentInterface): string {
  const hash = document.metadata?.contentHash;
  if (typeof hash === "string" && /^[0-9a-f]{64}$/i.test(hash) && document.id === uuidFromContentHash(hash))
    return hash;
  return document.id ?? "";
}
