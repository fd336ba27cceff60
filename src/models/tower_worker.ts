/**
 * An inference worker behind `WorkerRunner`: one per pool slot, hosting one
 * `InProcessRunner` per ImageEmbeddings instance. Built as its own entry
 * (dist/tower_worker.js and .cjs) so that it loads without the rest of the package.
 */
import { serveJobs, type JobContext } from "../runtime/serve_jobs.js";
import { lowerThisThreadPriority } from "../runtime/thread_priority.js";
import type { ModelLoadProgress } from "./model_source.js";
import { progressTopic, type TowerJobs } from "./tower_jobs.js";
import { InProcessRunner } from "./tower_runner.js";

lowerThisThreadPriority();

const runners = new Map<number, InProcessRunner>();

function runner(id: number): InProcessRunner {
  const found = runners.get(id);
  if (!found) throw new Error(`no runner ${id} in the inference worker`);
  return found;
}

serveJobs({
  open({ runner: id, setup }: TowerJobs["open"], context: JobContext) {
    const progressCallback = setup.forwardProgress
      ? (progress: ModelLoadProgress) => context.publish(progressTopic(id), progress)
      : undefined;
    runners.set(id, new InProcessRunner({ ...setup.options, progressCallback }, setup.source));
  },
  load: ({ runner: id, tower }: TowerJobs["load"]) => runner(id).load(tower),
  async vision({ runner: id, pixels, dims }: TowerJobs["vision"], context: JobContext) {
    const embeds = await runner(id).runVision(pixels, dims);
    context.transfer(embeds.buffer);
    return embeds;
  },
  async text({ runner: id, inputIds, attentionMask, dims }: TowerJobs["text"], context: JobContext) {
    const embeds = await runner(id).runText(inputIds, attentionMask, dims);
    context.transfer(embeds.buffer);
    return embeds;
  },
  async backbone({ runner: id, pixels, dims }: TowerJobs["backbone"], context: JobContext) {
    const output = await runner(id).runBackbone(pixels, dims);
    context.transfer(output.data.buffer);
    return output;
  },
  dispose({ runner: id }: TowerJobs["dispose"]) {
    const found = runner(id);
    runners.delete(id);
    return found.dispose();
  },
});
