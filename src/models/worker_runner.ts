/**
 * Runs the towers in an inference worker (tower_worker.ts), so that onnxruntime's
 * blocking `run()` never stalls the caller's event loop: a server keeps answering and
 * progress keeps printing while a batch is computed. Pixel and embedding buffers are
 * transferred, not copied.
 *
 * The process has a pool of inference workers, shared by every `WorkerRunner`, so that
 * instances share the cores rather than oversubscribe them: a runner with `workers: N`
 * uses the pool's first N (each holding its own copy of the weights), and sends each
 * batch to the one with the fewest of its batches in flight. The threads themselves
 * (start, transfer, unref while idle, death) are runtime/job_worker.ts'.
 */
import { transferable, WorkerPool } from "../runtime/job_worker.js";
import type { ModelLoadProgress, ModelSourceOptions, ResolvedModelSource } from "./model_source.js";
import { progressTopic, TOWER_WORKER, type RunnerSetup, type TowerJobs } from "./tower_jobs.js";
import type { BackboneOutput, Tower, TowerInfo, TowerRunner } from "./tower_runner.js";

const inferenceWorkers = new WorkerPool(TOWER_WORKER, {
  label: "inference worker",
  afterDeath: "restart the process to run models again",
});

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
    const infos = await Promise.all(this.slots.map((_, slot) => this.call<TowerInfo>(slot, "load", { tower })));
    return infos[0];
  }

  runVision(pixels: Float32Array, dims: [number, number, number, number]): Promise<Float32Array> {
    return this.call(this.leastBusy(), "vision", { pixels, dims }, transferable(pixels));
  }

  runText(inputIds: BigInt64Array, attentionMask: BigInt64Array, dims: [number, number]): Promise<Float32Array> {
    return this.call(this.leastBusy(), "text", { inputIds, attentionMask, dims }, [
      ...transferable(inputIds),
      ...transferable(attentionMask),
    ]);
  }

  runBackbone(pixels: Float32Array, dims: [number, number, number, number]): Promise<BackboneOutput> {
    return this.call(this.leastBusy(), "backbone", { pixels, dims }, transferable(pixels));
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.slots.map(async (state, slot) => {
        if (!state.opened) return;
        state.opened = false;
        const worker = inferenceWorkers.worker(slot);
        worker.unsubscribe(progressTopic(this.id));
        await worker.request("dispose", { runner: this.id } satisfies TowerJobs["dispose"]);
      }),
    );
  }

  /** The first of this runner's workers with the fewest of its requests in flight. */
  private leastBusy(): number {
    let best = 0;
    this.slots.forEach((state, slot) => state.busy < this.slots[best].busy && (best = slot));
    return best;
  }

  private async call<T>(
    slot: number,
    job: Exclude<keyof TowerJobs, "open" | "dispose">,
    payload: Omit<TowerJobs[typeof job], "runner">,
    transfer: ArrayBuffer[] = [],
  ): Promise<T> {
    const worker = inferenceWorkers.worker(slot);
    const state = this.slots[slot];
    if (!state.opened) {
      // Jobs are handled in order, so the request below finds the runner open.
      const { progressCallback, ...options } = this.options;
      const setup: RunnerSetup = { options, source: this.source, forwardProgress: progressCallback !== undefined };
      if (progressCallback)
        worker.subscribe(progressTopic(this.id), (event) => progressCallback(event as ModelLoadProgress));
      const open: TowerJobs["open"] = { runner: this.id, setup };
      void worker.request("open", open).catch(() => undefined);
      state.opened = true;
    }
    state.busy++;
    try {
      return await worker.request<T>(job, { ...payload, runner: this.id }, { transfer });
    } finally {
      state.busy--;
    }
  }
}
