/**
 * Memory while indexing many images: addImages in chunks into one ImageFaissStore,
 * recording the process RSS (the inference worker included: it is a thread of this
 * process) at each checkpoint, the peak RSS, and the event-loop delay throughout.
 */
import { ImageEmbeddings, ImageFaissStore } from "../../src/index.js";
import { measure, readArgs, report } from "./child.js";

const args = readArgs<{ model: string; paths: string[]; checkpoints: number[]; batchSize: number }>();
const embeddings = new ImageEmbeddings({ model: args.model, batchSize: args.batchSize });
const store = new ImageFaissStore(embeddings);
const rssAt: Record<number, number> = {};
const chunk = 250;
const run = await measure(async () => {
  for (let done = 0; done < args.paths.length; done += chunk) {
    const result = await store.addImages(args.paths.slice(done, done + chunk), {
      ids: args.paths.slice(done, done + chunk),
    });
    if (result.failures.length > 0) throw result.failures[0];
    const count = Math.min(done + chunk, args.paths.length);
    if (args.checkpoints.includes(count)) rssAt[count] = process.memoryUsage().rss / 2 ** 20;
  }
});
report({
  images: args.paths.length,
  stored: store.entries().length,
  seconds: run.seconds,
  rssMbAt: rssAt,
  peakRssMb: run.peakRssMb,
  loopDelayP99Ms: run.loopDelayP99Ms,
  loopDelayMaxMs: run.loopDelayMaxMs,
});
await embeddings.dispose();
