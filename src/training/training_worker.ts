/**
 * The training worker: trains projection heads off the caller's thread (their matrix
 * products run on onnxruntime, which blocks the thread it runs on). One per process,
 * started on the first `trainProjectionHead` that asks for a worker. Built as its own
 * entry (dist/training_worker.js and .cjs).
 */
import { onnxEngine } from "../heads/matrix_engine.js";
import { serveJobs, type JobContext } from "../runtime/serve_jobs.js";
import { lowerThisThreadPriority } from "../runtime/thread_priority.js";
import { runTrainingJob, type TrainingJob } from "./train_head.js";

lowerThisThreadPriority();

serveJobs({
  async train(job: TrainingJob, context: JobContext) {
    const outcome = await runTrainingJob(job, onnxEngine, (epoch) => context.emit(epoch));
    context.transfer(outcome.params.buffer);
    return outcome;
  },
});
