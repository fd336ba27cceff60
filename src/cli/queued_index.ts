/** `image-embeddings index <dir...> --queue ... --store ...`: the coordinator of a distributed run. */
import type { ModelDtype } from "../models/model_source.js";
import { indexProgressReporter } from "./progress.js";
import { displayPath, formatCount, printJson } from "./shared.js";

export interface QueuedIndexCommandOptions {
  queue?: string;
  store?: string;
  table: string;
  queueName: string;
  model?: string;
  dtype?: ModelDtype;
  batchSize?: number;
  exclude: string[];
  json?: boolean;
  progress: boolean;
  progressInterval: number;
}

export async function runQueuedIndex(
  dirs: string[],
  options: QueuedIndexCommandOptions,
  describe: (summary: import("../indexer/index_summary.js").IndexSummary) => string,
): Promise<void> {
  if (!options.queue || !options.store) {
    throw new Error(
      "Distributed indexing needs both --queue <redis-url> and --store <postgres-url> " +
        "(leave out both to index into the FAISS --index folder in this process)",
    );
  }
  const log = (line: string) => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write("\nStopped waiting; queued batches stay queued for the workers. Run again to collect them.\n");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const { indexFoldersQueued } = await import("../distributed/queued_indexer.js");
  const reporter = indexProgressReporter(
    log,
    (p) =>
      `Found ${formatCount(p.found)} images in ${dirs.map(displayPath).join(", ")}: ` +
      `${formatCount(p.total)} queued for the workers`,
    { show: options.progress, intervalSeconds: options.progressInterval },
  );
  try {
    const summary = await indexFoldersQueued(dirs, {
      queue: options.queue,
      store: options.store,
      tableName: options.table,
      queueName: options.queueName,
      model: options.model,
      dtype: options.dtype,
      batchSize: options.batchSize,
      exclude: options.exclude,
      signal: controller.signal,
      onProgress: reporter.onProgress,
    });
    if (options.json) printJson(summary);
    else
      log(
        describe(summary).replace(
          /^Index: .*$/m,
          `Store: ${summary.indexDir} (${formatCount(summary.entries)} images, model ${displayPath(summary.model)})`,
        ),
      );
    if (summary.interrupted) process.exitCode = 130;
  } finally {
    reporter.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
