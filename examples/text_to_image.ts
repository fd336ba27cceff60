/**
 * Text-to-image search: embed a folder of images into a FAISS store, then find images
 * by describing them.
 *
 *   npx tsx examples/text_to_image.ts
 *
 * In your own project, import from "langchain-image-embeddings" instead of "../src/index.js".
 */
import { ImageEmbeddings, ImageFaissStore, MultimodalRetriever } from "../src/index.js";
import { MODEL, sampleImages, show } from "./shared/setup.js";

const images = await sampleImages();
const embeddings = new ImageEmbeddings({ model: MODEL });

// One Document per image: pageContent and metadata.source are the path; the metadata also
// holds a content hash, the size, and what we pass here.
const store = await ImageFaissStore.fromImages(
  images.map((image) => image.path),
  embeddings,
  { metadatas: images.map(({ colour, shape }) => ({ colour, shape })) },
);
console.log(
  `Indexed ${store.entries().length} images with ${show(MODEL)} (${await embeddings.getDimension()}-d vectors)\n`,
);

const retriever = new MultimodalRetriever({ vectorStore: store, k: 3 });
for (const query of ["a red circle", "a photo of a blue star", "yellow triangle"]) {
  const docs = await retriever.invoke(query);
  console.log(`"${query}"`);
  for (const doc of docs) console.log(`  ${doc.metadata.score.toFixed(3)}  ${show(doc.metadata.source)}`);
}

// A filter narrows the search to matching metadata; k results still come back.
const greens = await retriever.withSearchOptions({ filter: { colour: "green" } }).invoke("a star");
console.log(`\n"a star", only green images:`);
for (const doc of greens) console.log(`  ${doc.metadata.score.toFixed(3)}  ${show(doc.metadata.source)}`);

await embeddings.dispose();
