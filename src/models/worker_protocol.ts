/** The messages between `WorkerRunner`s (main thread) and the shared inference worker (tower_worker.ts). */
import type { ModelSourceOptions, ModelLoadProgress, ResolvedModelSource } from "./model_source.js";
import type { Tower } from "./tower_runner.js";
import type { EpochStats, TrainingJob } from "../training/train_head.js";

/** Opens a runner in the worker: everything but the progress callback, which cannot cross threads (events are posted back). */
export interface RunnerSetup {
  options: Omit<ModelSourceOptions, "progressCallback">;
  source: ResolvedModelSource;
  forwardProgress: boolean;
}

/** Tower requests name the runner (one per ImageEmbeddings) they are for; training runs on its own. */
export type WorkerRequest = { id: number } & (
  | ({ runner: number } & (
      | { op: "open"; setup: RunnerSetup }
      | { op: "load"; tower: Tower }
      | { op: "vision"; pixels: Float32Array; dims: [number, number, number, number] }
      | { op: "text"; inputIds: BigInt64Array; attentionMask: BigInt64Array; dims: [number, number] }
      | { op: "backbone"; pixels: Float32Array; dims: [number, number, number, number] }
      | { op: "dispose" }
    ))
  | { op: "train"; job: TrainingJob }
);

export type WorkerReply =
  | { id: number; value: unknown; error?: undefined; progress?: undefined; epoch?: undefined }
  | { id: number; error: { name: string; message: string }; value?: undefined; progress?: undefined; epoch?: undefined }
  | { progress: ModelLoadProgress; runner: number; id?: undefined }
  /** A training run's progress, for the request `id`. */
  | { id: number; epoch: EpochStats; value?: undefined; error?: undefined; progress?: undefined };
