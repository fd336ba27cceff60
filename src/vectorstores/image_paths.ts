/**
 * The file paths of an image entry. One entry per content: its metadata lists every path
 * holding those bytes (`paths`, sorted, each once), and `source` and `pageContent` follow
 * the first. The folder indexer (FAISS) and the Postgres store keep paths this way.
 */
import { Document } from "@langchain/core/documents";

/** The `paths` list of a Document, or undefined for entries whose paths are not managed. */
export function pathsOf(document: { metadata?: Record<string, unknown> }): string[] | undefined {
  const paths = document.metadata?.paths;
  return Array.isArray(paths) && paths.every((p) => typeof p === "string") ? paths : undefined;
}

/** A copy of `document` listing `paths` (sorted, each once); `source` and `pageContent` follow the first. */
export function withPaths(document: Document, paths: string[]): Document {
  const sorted = [...new Set(paths)].sort();
  const { source: _source, ...rest } = document.metadata;
  const source = sorted[0];
  return new Document({
    id: document.id,
    pageContent: source ?? `image:${document.metadata.contentHash ?? document.id}`,
    metadata: { ...rest, ...(source !== undefined ? { source } : {}), paths: sorted },
  });
}
