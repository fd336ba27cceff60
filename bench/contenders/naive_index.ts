/**
 * Naive transformers.js, as a user would first write it and as @llamaindex/clip's
 * ClipEmbedding.getImageEmbedding does: for each file in turn, RawImage.read (full
 * decode), the CLIP processor (resize, crop, normalise in JS), the vision model on a
 * batch of one; each vector goes into @langchain/community's FaissStore.
 */
import { AutoProcessor, CLIPVisionModelWithProjection, RawImage } from "@huggingface/transformers";
import { FaissStore } from "@langchain/community/vectorstores/faiss";
import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import { measure, readArgs, report } from "./child.js";

const args = readArgs<{ model: string; paths: string[]; dtype: "fp32" | "q8" }>();
const options = { local_files_only: true, dtype: args.dtype, device: "cpu" as const };
const processor = await AutoProcessor.from_pretrained(args.model, options);
const vision = await CLIPVisionModelWithProjection.from_pretrained(args.model, options);

async function embed(path: string): Promise<number[]> {
  const image = await RawImage.read(path);
  const inputs = await processor(image);
  const { image_embeds } = await vision(inputs);
  return Array.from(image_embeds.data as Float32Array);
}
await embed(args.paths[0]); // load outside the timing

const store = new FaissStore(new FakeEmbeddings(), {});
const run = await measure(async () => {
  for (const path of args.paths) {
    await store.addVectors([await embed(path)], [new Document({ pageContent: path, metadata: { source: path } })]);
  }
});
report({
  images: args.paths.length,
  stored: store.index.ntotal(),
  seconds: run.seconds,
  loopDelayP99Ms: run.loopDelayP99Ms,
  loopDelayMaxMs: run.loopDelayMaxMs,
  peakRssMb: run.peakRssMb,
});
