/**
 * The issue-18 scenario without this package: @langchain/community's HuggingFaceTransformersEmbeddings on the
 * main thread and a transformers.js CLIP image session in a worker thread of the same process, run concurrently
 * for many rounds. onnxruntime-node 1.21 (transformers.js 3.8.1) aborts here with exit 134; the check is that the
 * process survives and both sides give identical vectors in every round.
 *
 *   node scripts/community/concurrent_embeddings.mjs [--rounds 20] [--text-model DIR] [--image-model DIR] [--image FILE]
 * Prints one JSON line; exits 1 when vectors drift or a check fails.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

if (isMainThread) {
  const repo = new URL("../../", import.meta.url).pathname;
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "20" },
      "text-model": { type: "string", default: resolve(repo, "test/fixtures/models/tiny-bert") },
      "image-model": { type: "string", default: resolve(repo, "test/fixtures/models/tiny-clip") },
      image: { type: "string", default: resolve(repo, "test/fixtures/images/red-circle-80.png") },
    },
  });
  const { HuggingFaceTransformersEmbeddings } =
    await import("@langchain/community/embeddings/huggingface_transformers");
  const { runtimeInfo } = await import("./runtime_info.mjs");

  const worker = new Worker(new URL(import.meta.url), {
    workerData: { model: resolve(values["image-model"]), image: resolve(values.image) },
  });
  const pending = new Map();
  worker.on("message", ({ id, vectors, error }) => {
    const { resolve: done, reject } = pending.get(id);
    pending.delete(id);
    if (error) reject(new Error(error));
    else done(vectors);
  });
  worker.on("error", (error) => {
    console.error("worker failed:", error);
    process.exit(1);
  });
  let nextId = 0;
  const embedImagesInWorker = (count) =>
    new Promise((done, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: done, reject });
      worker.postMessage({ id, count });
    });

  // batchSize 2 splits the texts into several pipeline calls per round, as a real app's chunks would.
  const text = new HuggingFaceTransformersEmbeddings({
    model: resolve(values["text-model"]),
    pretrainedOptions: { local_files_only: true },
    batchSize: 2,
  });
  const texts = ["a red circle", "a blue square", "text chunks of a document", "another chunk", "the last one"];
  const rounds = Number(values.rounds);
  let firstText, firstImage;
  const failures = [];
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    // Odd rounds alternate (text, then images); even rounds run both at once.
    const [textVectors, imageVectors] =
      round % 2
        ? [await text.embedDocuments(texts), await embedImagesInWorker(4)]
        : await Promise.all([text.embedDocuments(texts), embedImagesInWorker(4)]);
    const t = JSON.stringify(textVectors);
    const i = JSON.stringify(imageVectors);
    firstText ??= t;
    firstImage ??= i;
    if (t !== firstText) failures.push(`round ${round}: text vectors differ from round 0`);
    if (i !== firstImage) failures.push(`round ${round}: image vectors differ from round 0`);
    if (new Set(imageVectors.map((v) => JSON.stringify(v))).size !== 1)
      failures.push(`round ${round}: one image, different vectors`);
  }
  await worker.terminate();
  console.log(
    JSON.stringify({
      ...runtimeInfo(import.meta.url),
      rounds,
      textDimension: JSON.parse(firstText)[0].length,
      imageDimension: JSON.parse(firstImage)[0].length,
      seconds: (Date.now() - started) / 1000,
      failures,
    }),
  );
  process.exit(failures.length ? 1 : 0);
} else {
  const { AutoProcessor, CLIPVisionModelWithProjection, RawImage } = await import("@huggingface/transformers");
  const options = { local_files_only: true, dtype: "fp32" };
  const [processor, model, image] = await Promise.all([
    AutoProcessor.from_pretrained(workerData.model, options),
    CLIPVisionModelWithProjection.from_pretrained(workerData.model, options),
    RawImage.read(workerData.image),
  ]);
  parentPort.on("message", async ({ id, count }) => {
    try {
      const vectors = [];
      // One session run per image, so the worker's runs interleave with the main thread's.
      for (let k = 0; k < count; k++) {
        const { image_embeds } = await model(await processor(image));
        vectors.push(Array.from(image_embeds.data));
      }
      parentPort.postMessage({ id, vectors });
    } catch (error) {
      parentPort.postMessage({ id, error: String(error?.stack ?? error) });
    }
  });
}
