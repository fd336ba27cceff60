/**
 * Child process for the kill-during-save test of `vectorsOnDisk`: resumes the store in
 * argv[2] (or starts one), then plays rounds (disk_store_rounds.ts) and saves after each,
 * printing "saving <round>" and "saved <round>". With argv[4] "unsaved", it plays one round
 * without saving, prints "added <round>" and waits to be killed: rows past the saved ones.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ImageFaissStore } from "../../src/index.js";
import { applyRound, lastRound } from "./disk_store_rounds.js";
import { noEmbeddings } from "./vectors.js";

const [directory, indexType, mode] = process.argv.slice(2);
const options = { indexType, ivfTrainSize: 500, vectorsOnDisk: true };
const store = existsSync(join(directory, "CURRENT"))
  ? await ImageFaissStore.load(directory, noEmbeddings, options)
  : new ImageFaissStore(noEmbeddings, { ...options, vectorsDir: `${directory}-scratch` });
if (mode === "unsaved") {
  const round = lastRound(store) + 1;
  await applyRound(store, round);
  process.stdout.write(`added ${round}\n`);
  setInterval(() => {}, 1_000);
} else {
  await playAndSave(lastRound(store) + 1);
}

async function playAndSave(first: number): Promise<never> {
  for (let round = first; ; round++) {
    await applyRound(store, round);
    process.stdout.write(`saving ${round}\n`);
    await store.save(directory);
    process.stdout.write(`saved ${round}\n`);
  }
}
