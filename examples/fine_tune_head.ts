/**
 * Fine-tuning: teach the search your own notion of "similar" with a projection head,
 * trained in seconds over frozen embeddings.
 *
 *   npx tsx examples/fine_tune_head.ts
 *
 * Out of the box, CLIP-style embeddings put the most visible difference first: here, two
 * images of the same colour are closer than two of the same shape. A catalogue that
 * should group by shape (a product type, a part number, an art style) trains a head on a
 * folder per class, then searches with it. Held-out images measure the gain.
 *
 * In your own project, import from "langchain-image-embeddings" instead of "../src/index.js".
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import {
  ImageEmbeddings,
  ImageFaissStore,
  MultimodalRetriever,
  saveProjectionHead,
  trainProjectionHead,
} from "../src/index.js";
import { embedTrainingSource, readTrainingSource } from "../src/training/training_data.js";
import { COLOURS, SHAPES, renderShape } from "./shared/shapes.js";
import { MODEL, show } from "./shared/setup.js";

const DIR = join(process.env.EXAMPLES_DIR ?? ".cache/examples", "fine-tune");

// A catalogue with one folder per shape, every colour in each, and held-out images to test on.
async function writeCatalogue(folder: string, perColour: number, seedBase: number) {
  const paths: { path: string; shape: string }[] = [];
  for (const shape of SHAPES) {
    await mkdir(join(folder, shape), { recursive: true });
    for (const colour of COLOURS) {
      for (let k = 0; k < perColour; k++) {
        const path = join(folder, shape, `${colour}-${k}.png`);
        await writeFile(path, await renderShape({ colour, shape, seed: seedBase + 97 * paths.length }));
        paths.push({ path, shape });
      }
    }
  }
  return paths;
}
await writeCatalogue(join(DIR, "train"), 8, 100);
const heldOut = await writeCatalogue(join(DIR, "held-out"), 3, 50_000);

// 1. Embed the training folders once (cached), with the model frozen.
const embeddings = new ImageEmbeddings({ model: MODEL });
const source = await readTrainingSource(join(DIR, "train"));
const { data } = await embedTrainingSource(source, embeddings, join(DIR, "embeddings-cache.json"));

// 2. Train: triplet loss with batch-hard mining; early stopping on a validation split.
const trained = await trainProjectionHead({
  data,
  loss: { type: "triplet", margin: 0.2 },
  head: { kind: "mlp" },
  learningRate: 3e-3,
  seed: 1,
});
console.log(
  `Trained a ${trained.head.shape.kind} head in ${trained.seconds.toFixed(1)} s (best epoch ${trained.bestEpoch}).`,
);
console.log(
  `Validation recall@1 by shape: ${trained.baseline.toFixed(2)} without the head, ${trained.validation.toFixed(2)} with it.`,
);
const headFile = join(DIR, "shape-head.json");
await saveProjectionHead(trained.head, headFile, { concept: "shape" });

// 3. Held-out images: how many of the 10 most similar other images have the same shape?
// (Each shape has 17 other held-out images, in all six colours.)
async function heldOutPrecision(model: ImageEmbeddings) {
  const store = await ImageFaissStore.fromImages(
    heldOut.map((h) => h.path),
    model,
  );
  const retriever = new MultimodalRetriever({ vectorStore: store, k: 10 });
  let hits = 0;
  for (const { path, shape } of heldOut) {
    const docs = await retriever.invoke({ image: path });
    hits += docs.filter((doc) => doc.metadata.source.includes(`/${shape}/`)).length;
  }
  return { precision: hits / (10 * heldOut.length), retriever };
}
const withHead = new ImageEmbeddings({ model: MODEL, projectionHead: headFile });
const before = await heldOutPrecision(embeddings);
const after = await heldOutPrecision(withHead);
console.log(
  `Held-out precision@10 by shape (${heldOut.length} new images): ${before.precision.toFixed(2)} → ${after.precision.toFixed(2)}\n`,
);

const probe = heldOut.find((h) => h.path.endsWith(join("star", "red-0.png")))!.path;
for (const [name, { retriever }] of [
  ["without the head", before],
  ["with the head", after],
] as const) {
  const docs = await retriever.withSearchOptions({ k: 4 }).invoke({ image: probe });
  console.log(`Like ${show(probe)}, ${name}:`);
  for (const doc of docs) console.log(`  ${doc.metadata.score.toFixed(3)}  ${show(doc.metadata.source)}`);
}

await Promise.all([embeddings.dispose(), withHead.dispose()]);
