/**
 * The offline demo (`npm run demo`): writes sample images, embeds and indexes them
 * with the project's own tiny-clip model, and searches them by text and by image.
 *
 * Run it with a real CLIP from the Hugging Face Hub instead (downloads ~350 MB once):
 *   DEMO_MODEL=Xenova/clip-vit-base-patch32 npm run demo
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { ImageEmbeddings, ImageFaissStore } from "../src/index.js";
import { CLASSES, renderShape } from "./shared/shapes.js";

const ROOT = resolve(import.meta.dirname, "..");
const MODEL = process.env.DEMO_MODEL ?? process.env.TMP_TINY ?? join(ROOT, "test/fixtures/models/tiny-clip");
const IMAGES = join(ROOT, ".cache/demo/images");
const INDEX = join(ROOT, ".cache/demo/index");

async function writeSampleImages(): Promise<string[]> {
  await mkdir(IMAGES, { recursive: true });
  // Two drawings of each of the 24 colour-and-shape classes, at different sizes.
  const samples = CLASSES.flatMap((c, i) => [0, 1].map((k) => ({ ...c, seed: 7 + 31 * i + k, width: 320 + 160 * k, height: 240 + 80 * k })));
  return Promise.all(
    samples.map(async (s, i) => {
      const path = join(IMAGES, `${String(i).padStart(2, "0")}-${s.colour}-${s.shape}.png`);
      await writeFile(path, await renderShape(s));
      return path;
    }),
  );
}

const show = (path: string) => relative(ROOT, path);

async function main() {
  console.log(`Model: ${show(MODEL) || MODEL}`);
  const embeddings = new ImageEmbeddings({ model: MODEL });
  const paths = await writeSampleImages();
  console.log(`Wrote ${paths.length} sample images to ${show(IMAGES)}/`);

  const store = new ImageFaissStore(embeddings);
  const started = performance.now();
  const { failures } = await store.addImages(paths);
  const seconds = (performance.now() - started) / 1000;
  console.log(`Indexed ${store.size} images in ${seconds.toFixed(2)} s (${failures.length} failed)`);
  await store.save(INDEX);
  console.log(`Saved the index to ${show(INDEX)}/\n`);

  const queries = ["a photo of a red circle", "a blue star", "yellow triangle", "a purple square"];
  console.log("Text-to-image search (cosine similarity, top 3):");
  for (const query of queries) {
    const results = await store.similaritySearchWithScore(query, 3);
    console.log(`  "${query}"`);
    for (const [doc, score] of results) console.log(`     ${score.toFixed(3)}  ${show(doc.metadata.source)}`);
  }

  const probe = paths.find((p) => p.includes("green-triangle"))!;
  console.log(`\nImage-to-image search for ${show(probe)} (top 3):`);
  const similar = await store.similaritySearchVectorWithScore(await embeddings.embedImage(probe), 3);
  for (const [doc, score] of similar) console.log(`     ${score.toFixed(3)}  ${show(doc.metadata.source)}`);

  console.log("\nText-to-image cosine similarity (rows: captions; columns: a circle image of each colour):");
  const colours = ["red", "green", "blue", "yellow", "purple", "orange"];
  const columnVectors = await embeddings.embedImages(colours.map((c) => paths.find((p) => p.includes(`-${c}-circle`))!));
  const captions = colours.map((c) => `${/^[aeiou]/.test(c) ? "an" : "a"} ${c} circle`);
  console.log(`  ${"".padEnd(18)}${colours.map((c) => c.padStart(8)).join("")}`);
  for (const [i, vector] of (await embeddings.embedDocuments(captions)).entries()) {
    const cells = columnVectors.map((c) => c.reduce((s, x, j) => s + x * vector[j], 0).toFixed(3).padStart(8));
    console.log(`  ${captions[i].padEnd(18)}${cells.join("")}`);
  }

  console.log(`\nNext steps:
  - Use a real CLIP model from the Hugging Face Hub (downloads once, then works offline):
      DEMO_MODEL=Xenova/clip-vit-base-patch32 npm run demo
  - In code: new ImageEmbeddings({ model: "Xenova/clip-vit-base-patch32" })`);
  await embeddings.dispose();
}

await main();
