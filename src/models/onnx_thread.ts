/**
 * onnxruntime-node 1.21 (the version transformers.js 3.8 installs) keeps one
 * process-wide reference to its Tensor constructor, bound to the first thread that
 * runs a model. Running a model from any other thread afterwards aborts the process
 * ("Cannot create a handle without a HandleScope"; microsoft/onnxruntime#24486). So one
 * process runs models on one thread only: the first `ImageEmbeddings` to run a model
 * decides whether that is the main thread or the shared inference worker, and a later
 * instance that asks for the other gets a clear error instead of a crash.
 */
import type { InferenceThread } from "./clip_towers.js";

let owner: InferenceThread | undefined;

export function claimOnnxThread(wanted: InferenceThread): void {
  if (owner === undefined) {
    owner = wanted;
    return;
  }
  if (owner !== wanted) {
    throw new Error(
      `Cannot run a model with inference: "${wanted}": this process already runs models with inference: "${owner}", ` +
        `and onnxruntime-node cannot run models on two threads of one process. Use inference: "${owner}" for every ImageEmbeddings here.`,
    );
  }
}

/** The thread this process runs models on, once one has claimed it. */
export function onnxThreadOwner(): InferenceThread | undefined {
  return owner;
}
