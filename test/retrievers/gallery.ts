/**
 * A gallery of generated shape images on disk, indexed in a MemoryVectorStore with
 * documents shaped like ImageFaissStore's (`pageContent` = source, metadata
 * `{ source, contentHash, width, height, ...labels }`). Shared by the retriever and tool tests.
 */
import { Document } from "@langchain/core/documents";
import { MemoryVectorStore } from "@langchain/classic/vectorstores/memory";
import type { ImageEmbeddings } from "../../src/index.js";
export { writeGallery, type GalleryImage } from "../../examples/shared/gallery.js";

export interface IndexedGallery {
  store: MemoryVectorStore;
  /** The stored vectors, in gallery order. */
  vectors: number[][];
  docs: Document[];
}

/** Embeds the images once and stores them with the label metadata. */
export async function indexGallery(
  embeddings: ImageEmbeddings,
  images: { path: string; label?: string; colour?: string; shape?: string }[],
): Promise<IndexedGallery> {
  const results = await embeddings.embedImagesSettled(images.map((i) => i.path));
  const docs = results.map((r, i) => {
    if (r.error) throw r.error;
    const { source, contentHash, width, height } = r.image;
    const { label, colour, shape } = images[i];
    return new Document({
      pageContent: source ?? `image:${contentHash}`,
      metadata: { source, contentHash, width, height, label, colour, shape },
      id: `img-${i}`,
    });
  });
  return storeOf(
    embeddings,
    results.map((r) => r.embedding!),
    docs,
  );
}

/** A MemoryVectorStore holding these vectors and documents (no embedding). */
export async function storeOf(
  embeddings: ImageEmbeddings,
  vectors: number[][],
  docs: Document[],
): Promise<IndexedGallery> {
  const store = new MemoryVectorStore(embeddings);
  await store.addVectors(vectors, docs);
  return { store, vectors, docs };
}
