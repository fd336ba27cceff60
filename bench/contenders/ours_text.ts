/** Text embedding throughput: short queries one at a time (embedQuery) and batched (embedDocuments). */
import { ImageEmbeddings } from "../../src/index.js";
import { measure, readArgs, report } from "./child.js";

const args = readArgs<{ model: string; texts: string[]; batchSize: number; dtype: "fp32" | "q8" }>();
const embeddings = new ImageEmbeddings({ model: args.model, batchSize: args.batchSize, dtype: args.dtype });
// Load the model, and let onnxruntime size its buffers for both shapes, outside the timing.
await embeddings.embedQuery("warm up");
await embeddings.embedDocuments(args.texts.slice(0, args.batchSize));

const single = await measure(async () => {
  for (const text of args.texts) await embeddings.embedQuery(text);
});
const batched = await measure(() => embeddings.embedDocuments(args.texts));
report({ texts: args.texts.length, singleSeconds: single.seconds, batchedSeconds: batched.seconds });
await embeddings.dispose();
