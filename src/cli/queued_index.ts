/** `image-embeddings index <dir...> --queue ... --store ...`: the coordinator of a distributed run. */
import type { IndexProgress } from "../indexer/folder_indexer.js";
import type { ModelDtype } from "../models/model_source.js";
import { startProgress, type Progress } from "./progress.js";
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
  describe: (summary: import("../indexer/folder_indexer.js").IndexSummary) => string,
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
  let progress: Progress | undefined;
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
      onProgress: (p: IndexProgress) => {
        if (p.phase === "scanned") {
          log(
            `Found ${formatCount(p.found)} images in ${dirs.map(displayPath).join(", ")}: ` +
              `${formatCount(p.total)} queued for the workers`,
          );
          if (options.progress && p.total > 0) {
            progress = startProgress({ total: p.total, unit: "images", intervalMs: options.progressInterval * 1000 });
          }
        } else if (p.phase === "indexing") {
          progress?.update(p.done);
        } else {
          progress?.stop();
        }
      },
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
    progress?.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
