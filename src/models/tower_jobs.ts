/** The jobs `WorkerRunner`s (worker_runner.ts) send to the inference workers (tower_worker.ts), over runtime/'s job protocol. */
import type { WorkerEntry } from "../runtime/worker_entry.js";
import type { ModelSourceOptions, ResolvedModelSource } from "./model_source.js";
import type { Tower } from "./tower_runner.js";

export const TOWER_WORKER: WorkerEntry = {
  name: "tower_worker",
  source: new URL("./tower_worker.ts", import.meta.url).href,
  hint: 'pass inference: "main" to run without a worker',
};

/** Opens a runner in the worker: everything but the progress callback, which cannot cross threads (events are published back). */
export interface RunnerSetup {
  options: Omit<ModelSourceOptions, "progressCallback">;
  source: ResolvedModelSource;
  forwardProgress: boolean;
}

/** Each job's payload. Every job names the runner (one per ImageEmbeddings) it is for. */
export interface TowerJobs {
  open: { runner: number; setup: RunnerSetup };
  load: { runner: number; tower: Tower };
  vision: { runner: number; pixels: Float32Array; dims: [number, number, number, number] };
  text: { runner: number; inputIds: BigInt64Array; attentionMask: BigInt64Array; dims: [number, number] };
  backbone: { runner: number; pixels: Float32Array; dims: [number, number, number, number] };
  dispose: { runner: number };
}

/** The topic a runner's load progress is published on. */
export function progressTopic(runner: number): string {
  return `progress:${runner}`;
}
