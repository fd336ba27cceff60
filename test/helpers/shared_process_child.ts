/**
 * Child process for the shared-process test: an app that uses transformers.js directly on
 * its main thread (tiny-clip's text tower, as a reranker or LangChain's
 * HuggingFaceTransformersEmbeddings would) while `ImageEmbeddings` with its defaults runs
 * in its inference worker, plus an `ImageEmbeddings` with `inference: "main"`. They take
 * turns, then run concurrently, `rounds` times. Prints what each round's image vectors
 * were, as JSON; an onnxruntime that cannot share the process aborts it instead.
 */
import { AutoTokenizer, CLIPTextModelWithProjection, Tensor } from "@huggingface/transformers";
import { ImageEmbeddings } from "../../src/index.js";

const [model, image, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg);

const inWorker = new ImageEmbeddings({ model });
const onMain = new ImageEmbeddings({ model, inference: "main" });
const tokenizer = await AutoTokenizer.from_pretrained(model, { local_files_only: true });
const textModel = await CLIPTextModelWithProjection.from_pretrained(model, { local_files_only: true, dtype: "fp32" });

/** transformers.js used directly on this thread. */
async function directText(text: string): Promise<number[]> {
  const { input_ids, attention_mask } = tokenizer([text]);
  const output = await textModel({ input_ids, attention_mask });
  return Array.from((output.text_embeds as Tensor).data as Float32Array);
}

const workerVectors: number[][] = [];
const mainVectors: number[][] = [];
const directVectors: number[][] = [];
for (let round = 0; round < rounds; round++) {
  // Taking turns: worker, then this thread, then the worker again.
  workerVectors.push(await inWorker.embedImage(image));
  directVectors.push(await directText(`a photo number ${round % 3}`));
  mainVectors.push(await onMain.embedImage(image));
  // Concurrently: the worker computes while this thread runs its own sessions.
  const [fromWorker, , fromMain] = await Promise.all([
    inWorker.embedImage(image),
    Promise.all([directText("a red circle"), directText("a blue square")]),
    onMain.embedImage(image),
  ]);
  workerVectors.push(fromWorker);
  mainVectors.push(fromMain);
}
await Promise.all([inWorker.dispose(), onMain.dispose(), textModel.dispose()]);
process.stdout.write(JSON.stringify({ workerVectors, mainVectors, directVectors }));
