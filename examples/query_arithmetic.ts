/**
 * Query arithmetic: add and subtract concepts, in the style of rclip. Each term is
 * embedded to a unit vector, multiplied by its weight, and the sum is normalised.
 *
 *   npx tsx examples/query_arithmetic.ts
 *
 * In your own project, import from "langchain-image-embeddings" instead of "../src/index.js".
 */
import { ImageEmbeddings, ImageFaissStore, MultimodalRetriever, parseQueryString } from "../src/index.js";
import { MODEL, sampleImages, show } from "./shared/setup.js";

const images = await sampleImages();
const embeddings = new ImageEmbeddings({ model: MODEL });
const store = await ImageFaissStore.fromImages(
  images.map((image) => image.path),
  embeddings,
);
const retriever = new MultimodalRetriever({ vectorStore: store, k: 3 });
const print = (title: string, docs: Awaited<ReturnType<typeof retriever.invoke>>) => {
  console.log(title);
  for (const doc of docs) console.log(`  ${doc.metadata.score.toFixed(3)}  ${show(doc.metadata.source)}`);
};

const redCircle = images.find((image) => image.label === "red circle")!.path;

// The string syntax: spaced + and -, optional weights, and image:<path or URL> terms.
const query = `image:${show(redCircle)} - red + blue`;
const terms = parseQueryString(query).map(
  (t) => `${t.weight} × ${t.text !== undefined ? `"${t.text}"` : `image ${show(t.image)}`}`,
);
console.log(`Terms: ${terms.join(", ")}`);
print(`"${query}"`, await retriever.invoke(query));

// The same query as an object, for programs that build queries.
print(
  '{ positive: [{ image }, "blue"], negative: ["red"] }',
  await retriever.invoke({
    positive: [{ image: redCircle }, "blue"],
    negative: ["red"],
  }),
);

// Weighted text terms.
print('"green + 0.5*star"', await retriever.invoke("green + 0.5*star"));

await embeddings.dispose();
