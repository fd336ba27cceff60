/**
 * Runs the towers in a worker thread (tower_worker.ts), so that onnxruntime's blocking
 * `run()` never stalls the caller's event loop: a server keeps answering and progress
 * keeps printing while a batch is computed. Pixel and embedding buffers are transferred,
 * not copied.
 *
 * The process has a pool of workers, shared by every `WorkerRunner`, so that instances
 * share the cores rather than oversubscribe them: a runner with `workers: N` uses the
 * pool's first N (each holding its own copy of the weights), and sends each batch to the
 * one with the fewest of its batches in flight. A worker starts on first use, lives as long
 * as the process, and is `unref`'d while idle, so a forgotten `dispose()` never keeps the
 * process alive.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ModelLoadProgress, ModelSourceOptions, ResolvedModelSource } from "./model_source.js";
import type { BackboneOutput, Tower, TowerInfo, TowerRunner } from "./tower_runner.js";
import type { RunnerSetup, WorkerReply, WorkerRequest } from "./worker_protocol.js";
import type { EpochStats, TrainingJob, TrainingOutcome } from "../training/train_head.js";

type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, "id"> : never) : never;
type Pending = {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onEpoch?: (stats: EpochStats) => void;
};

/** One of the process's inference workers: request/reply over one message port. */
class InferenceWorker {
  private static readonly pool: InferenceWorker[] = [];

  /** The pool's worker number `slot` (0 for a runner with one worker, and for training). */
  static shared(slot = 0): InferenceWorker {
    InferenceWorker.pool[slot] ??= new InferenceWorker();
    return InferenceWorker.pool[slot];
  }

  readonly progress = new Map<number, (event: ModelLoadProgress) => void>();
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private died?: Error;

  private constructor() {
    const entry = workerEntry();
    // The worker needs none of the parent's node flags, and some (--input-type, --eval) break it.
    this.worker = entry.url
      ? new Worker(entry.url, { execArgv: [] })
      : new Worker(entry.script, { eval: true, execArgv: [] });
    this.worker.unref();
    this.worker.on("message", (message: WorkerReply) => {
      if (message.progress) return this.progress.get(message.runner)?.(message.progress);
      if (message.epoch) return this.pending.get(message.id)?.onEpoch?.(message.epoch);
      const entry = this.settle(message.id!);
      if (message.error) entry?.reject(rebuildError(message.error));
      else entry?.resolve(message.value);
    });
    // A dead worker is not replaced: whatever killed it (out of memory, a native fault) would likely kill the next.
    const die = (error: Error) => {
      this.died ??= error;
      for (const id of [...this.pending.keys()]) this.settle(id)?.reject(this.died);
    };
    this.worker.on("error", (error) =>
      die(new Error(`The inference worker failed: ${error.message}`, { cause: error })),
    );
    this.worker.on("exit", (code) =>
      die(new Error(`The inference worker exited (code ${code}); restart the process to run models again`)),
    );
  }

  request(request: Request, transfer: ArrayBuffer[] = [], onEpoch?: (stats: EpochStats) => void): Promise<unknown> {
    if (this.died) return Promise.reject(this.died);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject, onEpoch });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  private settle(id: number): Pending | undefined {
    const entry = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return entry;
  }
}

/** Errors cross threads as name and message; the common built-in types come back as themselves. */
function rebuildError({ name, message }: { name: string; message: string }): Error {
  const Type = ({ TypeError, RangeError } as Record<string, ErrorConstructor>)[name] ?? Error;
  return Object.assign(new Type(message), { name });
}

/** Trains a projection head in the shared worker, where onnxruntime runs (train_head.ts decides). */
export async function trainInWorker(job: TrainingJob, onEpoch?: (stats: EpochStats) => void): Promise<TrainingOutcome> {
  const buffers = Object.values(job.data).flatMap((value) =>
    value instanceof Float32Array ? [value.buffer as ArrayBuffer] : [],
  );
  return (await InferenceWorker.shared().request({ op: "train", job }, buffers, onEpoch)) as TrainingOutcome;
}

let nextRunnerId = 1;

/** One ImageEmbeddings' towers, run in the first `workers` of the process's inference workers. */
export class WorkerRunner implements TowerRunner {
  private readonly id = nextRunnerId++;
  /** Per worker of this runner: whether the runner is open there, and its batches in flight. */
  private readonly slots: { opened: boolean; busy: number }[];

  constructor(
    private readonly options: ModelSourceOptions,
    private readonly source: ResolvedModelSource,
    workers = 1,
  ) {
    this.slots = Array.from({ length: workers }, () => ({ opened: false, busy: 0 }));
  }

  /** Loads the tower in every worker of this runner, so that a load error shows now, not on some later batch. */
  async load(tower: Tower): Promise<TowerInfo> {
    const infos = await Promise.all(this.slots.map((_, slot) => this.call(slot, { op: "load", tower })));
    return infos[0] as TowerInfo;
  }

  async runVision(pixels: Float32Array, dims: [number, number, number, number]): Promise<Float32Array> {
    return (await this.call(this.leastBusy(), { op: "vision", pixels, dims }, transferable(pixels))) as Float32Array;
  }

  async runText(inputIds: BigInt64Array, attentionMask: BigInt64Array, dims: [number, number]): Promise<Float32Array> {
    return (await this.call(this.leastBusy(), { op: "text", inputIds, attentionMask, dims }, [
      ...transferable(inputIds),
      ...transferable(attentionMask),
    ])) as Float32Array;
  }

  async runBackbone(pixels: Float32Array, dims: [number, number, number, number]): Promise<BackboneOutput> {
    return (await this.call(
      this.leastBusy(),
      { op: "backbone", pixels, dims },
      transferable(pixels),
    )) as BackboneOutput;
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.slots.map(async (state, slot) => {
        if (!state.opened) return;
        state.opened = false;
        const worker = InferenceWorker.shared(slot);
        worker.progress.delete(this.id);
        await worker.request({ runner: this.id, op: "dispose" });
      }),
    );
  }

  /** The first of this runner's workers with the fewest of its requests in flight. */
  private leastBusy(): number {
    let best = 0;
    this.slots.forEach((state, slot) => state.busy < this.slots[best].busy && (best = slot));
    return best;
  }

  private async call(
    slot: number,
    request: Request extends infer R ? (R extends Request ? Omit<R, "runner"> : never) : never,
    transfer: ArrayBuffer[] = [],
  ) {
    const worker = InferenceWorker.shared(slot);
    const state = this.slots[slot];
    if (!state.opened) {
      // Messages are handled in order, so the request below finds the runner open.
      const { progressCallback, ...options } = this.options;
      const setup: RunnerSetup = { options, source: this.source, forwardProgress: progressCallback !== undefined };
      if (progressCallback) worker.progress.set(this.id, progressCallback);
      void worker.request({ runner: this.id, op: "open", setup }).catch(() => undefined);
      state.opened = true;
    }
    state.busy++;
    try {
      return await worker.request({ ...request, runner: this.id } as Request, transfer);
    } finally {
      state.busy--;
    }
  }
}

/** A buffer can be moved to the worker only when the array is all of it (callers here allocate one per batch). */
function transferable(array: Float32Array | BigInt64Array): ArrayBuffer[] {
  const buffer = array.buffer as ArrayBuffer;
  return array.byteOffset === 0 && array.byteLength === buffer.byteLength ? [buffer] : [];
}

/**
 * Where tower_worker lives next to this code: dist/tower_worker.{js,cjs} once built
 * (this code may sit in dist/ or in dist/cli-chunks/), or src/models/tower_worker.ts
 * when running from source under tsx or vitest. A worker does not inherit tsx's loader
 * (nor does `--import` in its execArgv apply on Node 20), so from source a small
 * script loads the TypeScript file through tsx's API.
 */
function workerEntry(): { url: URL; script?: undefined } | { url?: undefined; script: string } {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    const api = tsxEsmApi(here);
    const file = new URL("./tower_worker.ts", here).href;
    return {
      script: `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(file)}, ${JSON.stringify(file)}));`,
    };
  }
  const file = here.endsWith(".cjs") ? "tower_worker.cjs" : "tower_worker.js";
  for (const candidate of [`./${file}`, `../${file}`]) {
    const url = new URL(candidate, here);
    if (existsSync(fileURLToPath(url))) return { url };
  }
  throw new Error(`Cannot find ${file} next to ${fileURLToPath(here)}; pass inference: "main" to run without a worker`);
}

/** The ESM build of tsx's API (`require.resolve` would give the CJS one, which cannot load its ESM hooks from an eval'd worker). */
function tsxEsmApi(from: string): string {
  const manifest = createRequire(from).resolve("tsx/package.json");
  const exports = JSON.parse(readFileSync(manifest, "utf8")).exports["./esm/api"];
  return new URL(exports.import.default ?? exports.import, pathToFileURL(manifest)).href;
}
