/**
 * Image-to-image search: "more like this". The query is an image, as a path here, but
 * any input ImageEmbeddings accepts works: a URL, bytes, a data URI, base64, a Blob.
 *
 *   npx tsx examples/image_to_image.ts
 *
 * In your own project, import from "langchain-image-embeddings" instead of "../src/index.js".
 */
import { readFile } from "node:fs/promises";
import { ImageEmbeddings, ImageFaissStore, MultimodalRetriever } from "../src/index.js";
import { MODEL, sampleImages, show } from "./shared/setup.js";

const images = await sampleImages();
const embeddings = new ImageEmbeddings({ model: MODEL });
const store = await ImageFaissStore.fromImages(
  images.map((image) => image.path),
  embeddings,
);
const retriever = new MultimodalRetriever({ vectorStore: store, k: 4 });

// The query image is in the store, but its own entry is left out of the results:
// the retriever drops any result with the query's content hash.
const probe = images.find((image) => image.label === "purple square")!.path;
console.log(`Like ${show(probe)}:`);
for (const doc of await retriever.invoke({ image: probe })) {
  console.log(`  ${doc.metadata.score.toFixed(3)}  ${show(doc.metadata.source)}`);
}

// The same query as raw bytes gives the same results.
const bytes = await readFile(probe);
const sameByBytes = await retriever.invoke({ image: bytes });
console.log(`As bytes: ${sameByBytes.map((doc) => show(doc.metadata.source)).join(", ")}`);

// Maximal marginal relevance: relevant, but unlike each other.
const diverse = await retriever
  .withSearchOptions({ searchType: "mmr", fetchK: 20, lambda: 0.5 })
  .invoke({ image: probe });
console.log(`\nLike ${show(probe)}, diversified with MMR:`);
for (const doc of diverse) console.log(`  ${doc.metadata.score.toFixed(3)}  ${show(doc.metadata.source)}`);

await embeddings.dispose();
