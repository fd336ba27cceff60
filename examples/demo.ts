/**
 * The offline demo (`npm run demo`): writes sample images, indexes them with the
 * project's own tiny-clip model through the folder indexer (what the CLI's `index`
 * runs), searches them by text, by image and with query arithmetic, lists duplicates,
 * and says how to browse them with `serve` and how to switch to a real CLIP model.
 *
 * Run it with a real CLIP from the Hugging Face Hub instead (downloads about 600 MB once):
 *   DEMO_MODEL=Xenova/clip-vit-base-patch32 npm run demo
 * DEMO_DIR moves its images and index (default: .cache/demo).
 */
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve, sep } from "node:path";
import { formatGroups } from "../src/cli/duplicates_command.js";
import { displayPath } from "../src/cli/shared.js";
import { formatHits } from "../src/cli/search_command.js";
import { indexFolders } from "../src/indexer/folder_indexer.js";
import type { IndexSummary } from "../src/indexer/index_summary.js";
import { openImageIndex } from "../src/indexer/open_index.js";
import { duplicateGroups, searchIndex } from "../src/indexer/search.js";
import sharp from "sharp";
import { CLASSES, renderShape } from "./shared/shapes.js";

const ROOT = resolve(import.meta.dirname, "..");
const MODEL = process.env.DEMO_MODEL ?? join(ROOT, "test/fixtures/models/tiny-clip");
const DEMO = process.env.DEMO_DIR ?? join(ROOT, ".cache/demo");
const IMAGES = join(DEMO, "images");
const INDEX = join(DEMO, "index");

const show = displayPath;
const indent = (text: string) => text.replace(/^/gm, "    ");

async function writeSampleImages(): Promise<string[]> {
  // Two drawings of each of the 24 colour-and-shape classes, at different sizes,
  // in one folder per colour, plus two duplicates: a byte-identical copy, and a
  // smaller JPEG of another picture.
  const samples = CLASSES.flatMap((c, i) =>
    [0, 1].map((k) => ({ ...c, k, seed: 7 + 31 * i + k, width: 320 + 160 * k, height: 240 + 80 * k })),
  );
  const paths: string[] = [];
  for (const s of samples) {
    const path = join(IMAGES, s.colour, `${s.shape}-${s.k + 1}.png`);
    await mkdir(join(IMAGES, s.colour), { recursive: true });
    await writeFile(path, await renderShape(s));
    paths.push(path);
  }
  await mkdir(join(IMAGES, "copies"), { recursive: true });
  await copyFile(join(IMAGES, "green/triangle-1.png"), join(IMAGES, "copies/green-triangle.png"));
  await sharp(join(IMAGES, "orange/star-2.png"))
    .resize(240)
    .jpeg({ quality: 85 })
    .toFile(join(IMAGES, "copies/orange-star-small.jpg"));
  return paths;
}

function describe(s: IndexSummary): string {
  return `${s.added} added, ${s.updated} updated, ${s.removed} removed, ${s.unchanged} unchanged, ${s.failed} failed (${s.seconds.toFixed(2)} s)`;
}

async function main() {
  await rm(DEMO, { recursive: true, force: true });
  const paths = await writeSampleImages();
  const model = isAbsolute(MODEL) ? show(MODEL) : MODEL;
  console.log(`Model: ${model}`);
  console.log(`Wrote ${paths.length + 2} sample images to ${show(IMAGES)}/\n`);

  console.log(`$ image-embeddings index ${show(IMAGES)} --index ${show(INDEX)} --model ${model}`);
  const first = await indexFolders([IMAGES], { indexDir: INDEX, model: MODEL });
  console.log(`    ${describe(first)}: ${first.entries} distinct images`);
  console.log("$ image-embeddings index ... (again: only changed files are read)");
  console.log(`    ${describe(await indexFolders([IMAGES], { indexDir: INDEX }))}\n`);

  const { store, embeddings } = await openImageIndex(INDEX);
  for (const query of ["a red circle", "a blue star", "yellow triangle"]) {
    console.log(`$ image-embeddings search "${query}" -k 3`);
    console.log(indent(formatHits(await searchIndex(store, query, { k: 3 }))));
  }

  const probe = join(IMAGES, "purple/square-2.png");
  console.log(`$ image-embeddings search --image ${show(probe)} -k 3`);
  console.log(indent(formatHits(await searchIndex(store, { image: probe }, { k: 3 }))));

  const arithmetic = `image:${show(join(IMAGES, "red/circle-1.png"))} - red + blue`;
  console.log(`$ image-embeddings search "${arithmetic}" -k 3`);
  console.log(indent(formatHits(await searchIndex(store, arithmetic, { k: 3 }))));

  const threshold = 0.995;
  const groups = duplicateGroups(store, threshold);
  const shown = groups.filter((g) => g.images.some((i) => i.paths.some((p) => p.includes(`${sep}copies${sep}`))));
  console.log(`$ image-embeddings duplicates --threshold ${threshold}   (the groups with the two planted duplicates)`);
  console.log(indent(formatGroups(shown, threshold)));
  await embeddings.dispose();

  console.log(`
Browse the results in a web page (search box, image upload, "more like this", duplicates):
    npm run build && node dist/cli.js serve --index ${show(INDEX)}
    then open http://127.0.0.1:8080/  (installed from npm: npx image-embeddings serve ...)

Use a real CLIP model from the Hugging Face Hub (downloaded once, then cached):
    DEMO_MODEL=Xenova/clip-vit-base-patch32 npm run demo
    node dist/cli.js index ~/Pictures --model Xenova/clip-vit-base-patch32   # index: ./.image-index
    node dist/cli.js search "a dog on a beach"`);
}

await main();
