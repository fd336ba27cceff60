/**
 * The shared inference worker behind `WorkerRunner`: one per process, hosting one
 * `InProcessRunner` per ImageEmbeddings instance, and training projection heads (their
 * matrix products need onnxruntime, which lives on this thread). Built as its own entry
 * (dist/tower_worker.js and .cjs) so that it loads without the rest of the package.
 */
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import type { ModelLoadProgress } from "./model_source.js";
import { InProcessRunner } from "./tower_runner.js";
import { onnxEngine } from "../training/matrix_engine.js";
import { runTrainingJob } from "../training/train_head.js";
import type { WorkerReply, WorkerRequest } from "./worker_protocol.js";

const port = parentPort;
if (!port) throw new Error("tower_worker runs only as a worker thread (see worker_runner.ts)");

// Let the caller's thread preempt inference. While a batch runs, onnxruntime's threads
// keep every core busy, and the caller's event loop waited for a time slice (p99 delay
// 50-65 ms with 2 cores). On Linux a nice value belongs to one thread, and the threads it
// starts inherit it: this one and onnxruntime's pool (started with the first model)
// yield to the caller's thread, which needs little CPU. Elsewhere it would lower the
// whole process, so it is left alone. IMAGE_EMBEDDINGS_WORKER_NICE=0 turns it off.
const INFERENCE_NICE = Number(process.env.IMAGE_EMBEDDINGS_WORKER_NICE ?? 10);
if (process.platform === "linux" && Number.isInteger(INFERENCE_NICE) && INFERENCE_NICE > 0 && INFERENCE_NICE <= 19) {
  try {
    setPriority(INFERENCE_NICE);
  } catch {
    // Not permitted here (some sandboxes): inference simply keeps the default priority.
  }
}

const runners = new Map<number, InProcessRunner>();

port.on("message", async (request: WorkerRequest) => {
  try {
    if (request.op === "train") {
      const outcome = await runTrainingJob(request.job, onnxEngine, (epoch) =>
        port.postMessage({ id: request.id, epoch } satisfies WorkerReply),
      );
      return reply(request.id, outcome, [outcome.params.buffer as ArrayBuffer]);
    }
    if (request.op === "open") {
      const { setup } = request;
      const progressCallback = setup.forwardProgress
        ? (progress: ModelLoadProgress) => port.postMessage({ progress, runner: request.runner } satisfies WorkerReply)
        : undefined;
      runners.set(request.runner, new InProcessRunner({ ...setup.options, progressCallback }, setup.source));
      return reply(request.id, undefined);
    }
    const runner = runners.get(request.runner);
    if (!runner) throw new Error(`no runner ${request.runner} in the inference worker`);
    switch (request.op) {
      case "load":
        return reply(request.id, await runner.load(request.tower));
      case "vision": {
        const embeds = await runner.runVision(request.pixels, request.dims);
        return reply(request.id, embeds, [embeds.buffer as ArrayBuffer]);
      }
      case "text": {
        const embeds = await runner.runText(request.inputIds, request.attentionMask, request.dims);
        return reply(request.id, embeds, [embeds.buffer as ArrayBuffer]);
      }
      case "backbone": {
        const output = await runner.runBackbone(request.pixels, request.dims);
        return reply(request.id, output, [output.data.buffer as ArrayBuffer]);
      }
      case "dispose":
        runners.delete(request.runner);
        return reply(request.id, await runner.dispose());
    }
  } catch (error) {
    const e = error as Error;
    port.postMessage({
      id: request.id,
      error: { name: e?.name ?? "Error", message: e?.message ?? String(error) },
    } satisfies WorkerReply);
  }
});

function reply(id: number, value: unknown, transfer: ArrayBuffer[] = []) {
  port!.postMessage({ id, value } satisfies WorkerReply, transfer);
}
