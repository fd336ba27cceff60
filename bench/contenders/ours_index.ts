/**
 * Ours, end to end: image files → ImageEmbeddings (sharp shrink-on-load, batches, decode
 * of the next batch overlapping inference, the model in the inference worker) →
 * ImageFaissStore (one bulk add per batch).
 */
import { ImageEmbeddings, ImageFaissStore, type InferenceThread, type ModelDtype } from "../../src/index.js";
import { measure, readArgs, report } from "./child.js";

const args = readArgs<{
  model: string;
  paths: string[];
  dtype: ModelDtype;
  batchSize: number;
  inference: InferenceThread;
  threads?: number;
  workers?: number;
}>();
const embeddings = new ImageEmbeddings({
  model: args.model,
  dtype: args.dtype,
  batchSize: args.batchSize,
  inference: args.inference,
  threads: args.threads,
  workers: args.workers,
});
await embeddings.embedImages(args.paths.slice(0, 1)); // load the model outside the timing

const store = new ImageFaissStore(embeddings);
const run = await measure(() => store.addImages(args.paths, { ids: args.paths }));
if (run.value.failures.length > 0) throw run.value.failures[0];
report({
  images: args.paths.length,
  stored: store.entries().length,
  seconds: run.seconds,
  loopDelayP99Ms: run.loopDelayP99Ms,
  loopDelayMaxMs: run.loopDelayMaxMs,
  peakRssMb: run.peakRssMb,
  cpuSeconds: run.cpuSeconds,
});
await embeddings.dispose();
