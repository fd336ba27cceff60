/**
 * Child process for the kill-during-save test: loads the store in argv[2] (if any),
 * then keeps adding a batch and saving, printing the size before and after each save.
 */
import { ImageFaissStore } from "../../src/index.js";
import { clusteredVectors, documentsFor, noEmbeddings } from "./vectors.js";

const [directory, indexType] = process.argv.slice(2);
const store = new ImageFaissStore(noEmbeddings, { indexType, ivfTrainSize: 64 });
for (let round = 0; ; round++) {
  const vectors = clusteredVectors(4_000, 64, round + 1);
  const { documents, ids } = documentsFor(vectors, `r${round}-`);
  await store.addVectors(vectors, documents, { ids });
  process.stdout.write(`saving ${store.size}\n`);
  await store.save(directory);
  process.stdout.write(`saved ${store.size}\n`);
}
