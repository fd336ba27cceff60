/** The messages between `WorkerRunner`s (main thread) and the shared inference worker (tower_worker.ts). */
import type { ModelSourceOptions, ModelLoadProgress, ResolvedModelSource } from "./model_source.js";
import type { Tower } from "./tower_runner.js";

/** Opens a runner in the worker: everything but the progress callback, which cannot cross threads (events are posted back). */
export interface RunnerSetup {
  options: Omit<ModelSourceOptions, "progressCallback">;
  source: ResolvedModelSource;
  forwardProgress: boolean;
}

/** Every request names the runner (one per ImageEmbeddings) it is for. */
export type WorkerRequest = { id: number; runner: number } & (
  | { op: "open"; setup: RunnerSetup }
  | { op: "load"; tower: Tower }
  | { op: "vision"; pixels: Float32Array; dims: [number, number, number, number] }
  | { op: "text"; inputIds: BigInt64Array; attentionMask: BigInt64Array; dims: [number, number] }
  | { op: "backbone"; pixels: Float32Array; dims: [number, number, number, number] }
  | { op: "dispose" }
);

export type WorkerReply =
  | { id: number; value: unknown; error?: undefined; progress?: undefined }
  | { id: number; error: { name: string; message: string }; value?: undefined; progress?: undefined }
  | { progress: ModelLoadProgress; runner: number; id?: undefined };
