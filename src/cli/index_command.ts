/** `image-embeddings index <dir...>`: a thin shell around `indexFolders`. */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { Command, Option } from "commander";
import type { ModelDtype } from "../models/model_source.js";
import type { IndexSummary } from "../indexer/index_summary.js";
import {
  checkFaissOptions,
  givenFlags,
  indexBuildOptions,
  storeSettings,
  type FaissCommandOptions,
} from "./faiss_options.js";
import { formatDuration, indexProgressReporter } from "./progress.js";
import { runQueuedIndex, type QueuedIndexCommandOptions } from "./queued_index.js";
import { queueNameOption, queueOption, storeOption, tableOption } from "./store_options.js";
import {
  addOptions,
  displayPath,
  formatCount,
  indexOption,
  jsonOption,
  modelOptions,
  nonNegativeNumber,
  positiveInteger,
  positiveNumber,
  printJson,
} from "./shared.js";

interface IndexCommandOptions extends QueuedIndexCommandOptions, FaissCommandOptions {
  index: string;
  model?: string;
  dtype?: ModelDtype;
  indexType?: string;
  batchSize?: number;
  saveInterval: number;
  exclude: string[];
  json?: boolean;
  progress: boolean;
  progressInterval: number;
}

export function indexCommand(): Command {
  const command = new Command("index")
    .summary("add a folder's images to the index, or bring it up to date")
    .description(
      "Walk folders recursively and index every image sharp decodes (jpg, png, webp, gif, tiff, avif, ...; not SVG). " +
        "Skips node_modules, .git, hidden files and folders, and --exclude globs; follows symlinks without loops.\n\n" +
        "Incremental: unchanged files are skipped (size and mtime, then content hash), changed ones are embedded again, " +
        "deleted ones removed. Identical files are stored once, with all their paths.\n\n" +
        "The index is saved after every batch (or every --save-interval seconds), so a kill loses at most that much work, " +
        "and Ctrl-C saves everything done before it stops. Run the same command again to resume.",
    )
    .argument("<dir...>", "folders (or single image files) to index")
    .addOption(indexOption())
    .addOption(modelOptions(true)[0])
    .addOption(modelOptions(true)[1])
    .addOption(
      new Option(
        "--index-type <type>",
        'faiss index type of a new index: "Flat", "HNSW32", "IVF1024,PQ64", "HNSW32,SQ8", ... (default: "Flat")',
      ),
    );
  addOptions(command, indexBuildOptions())
    .addOption(
      new Option("--batch-size <n>", "images embedded together; each batch is saved (default: 16)").argParser(
        positiveInteger("--batch-size"),
      ),
    )
    .addOption(
      new Option(
        "--save-interval <seconds>",
        "save at most this often; 0 saves after every batch (for very large folders: 30-60)",
      )
        .argParser(nonNegativeNumber("--save-interval"))
        .default(0),
    )
    .addOption(
      new Option("--exclude <glob>", 'leave out matching files and folders, e.g. "*.gif" or "raw/**" (repeatable)')
        .argParser((value: string, previous: string[]) => [...previous, value])
        .default([], "none"),
    )
    .addOption(queueOption())
    .addOption(storeOption())
    .addOption(tableOption())
    .addOption(queueNameOption())
    .addOption(jsonOption("print the summary as JSON on stdout"))
    .addOption(new Option("--no-progress", "no progress output on stderr"))
    .addOption(
      new Option("--progress-interval <seconds>", "without a terminal: seconds between progress lines")
        .argParser(positiveNumber("--progress-interval"))
        .default(5),
    )
    .addHelpText(
      "after",
      "\nExit status: 0 when the run finished (files that failed are listed), 130 when interrupted, 1 on errors.\n" +
        "\nExamples:\n" +
        "  image-embeddings index ~/Pictures\n" +
        '  image-embeddings index photos scans --exclude "*.gif" --exclude "raw/**" --index-type HNSW32\n' +
        "  image-embeddings index photos --model ./models/my-clip --dtype q8 --index ./photo-index\n" +
        "  image-embeddings index /mnt/photos --queue redis://queue:6379 --store postgres://me@db:5432/photos\n" +
        '  image-embeddings index /mnt/photos --index-type "IVF4096,PQ64" --vectors-on-disk --nprobe 32\n' +
        "  image-embeddings index photos --index-type HNSW32 --ef-construction 80 --ef-search 256\n" +
        "\nAn existing index keeps its --index-type. --ef-search and --nprobe given for it become its saved\n" +
        "defaults; --vectors-on-disk and --no-vectors-on-disk move its vectors; each is saved even when no file changed.\n" +
        "\nWith --queue and --store, `image-embeddings worker` processes (any number, on any machine that reads\n" +
        "the same paths) embed the files, and the vectors go to Postgres + pgvector instead of the --index folder.",
    )
    .action(async (dirs: string[], options: IndexCommandOptions) => runIndex(dirs, options));
  return command;
}

async function runIndex(dirs: string[], options: IndexCommandOptions): Promise<void> {
  for (const dir of dirs) {
    try {
      await stat(dir);
    } catch {
      throw new Error(`Cannot index ${dir}: no such file or folder`);
    }
  }
  if (options.queue || options.store) {
    const faissOnly = [...(options.indexType === undefined ? [] : ["--index-type"]), ...givenFlags(options)];
    if (faissOnly.length > 0) {
      throw new Error(
        `${faissOnly.join(", ")}: FAISS options, for the --index folder; with --queue and --store the vectors go to Postgres`,
      );
    }
    return runQueuedIndex(dirs, options, describeSummary);
  }
  await checkFaissOptions(options.index, options, options.indexType);
  const log = (line: string) => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(
      "\nStopping after the batch in flight is saved (Ctrl-C again to quit now; the index stays valid)...\n",
    );
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  // Loaded here, not at the top: --help and argument errors need no model runtime.
  const { indexFolders } = await import("../indexer/folder_indexer.js");
  const reporter = indexProgressReporter(
    log,
    (p) =>
      `Found ${formatCount(p.found)} images in ${dirs.map(displayPath).join(", ")}: ` +
      `${formatCount(p.found - p.total)} unchanged, ${formatCount(p.total)} to check`,
    { show: options.progress, intervalSeconds: options.progressInterval },
  );
  let summary: IndexSummary;
  try {
    summary = await indexFolders(dirs, {
      indexDir: options.index,
      model: options.model,
      dtype: options.dtype,
      indexType: options.indexType,
      store: storeSettings(options),
      batchSize: options.batchSize,
      saveIntervalSeconds: options.saveInterval,
      exclude: options.exclude,
      signal: controller.signal,
      embeddings: { progressCallback: options.progress ? modelDownloadReporter() : undefined },
      onProgress: reporter.onProgress,
    });
  } finally {
    reporter.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  if (options.json) {
    printJson(summary);
  } else {
    log(describeSummary(summary));
  }
  if (summary.interrupted) {
    process.stderr.write("Interrupted: run the same command again to finish; work already saved is kept.\n");
    process.exitCode = 130;
  }
}

export function describeSummary(s: IndexSummary): string {
  const lines = [
    `${s.interrupted ? "Stopped" : "Done"} in ${formatDuration(s.seconds)}: ${formatCount(s.added)} added, ${formatCount(s.updated)} updated, ` +
      `${formatCount(s.removed)} removed, ${formatCount(s.unchanged)} unchanged, ${formatCount(s.failed)} failed`,
  ];
  if (s.failures.length > 0) {
    lines.push("Failed:");
    for (const f of s.failures) lines.push(`  ${displayPath(f.path)}: ${f.reason}`);
  }
  lines.push(`Index: ${displayPath(s.indexDir)} (${formatCount(s.entries)} images, model ${displayPath(s.model)})`);
  return lines.join("\n");
}

/** Prints one line per model file fetched from the Hub (local model folders report nothing). */
function modelDownloadReporter() {
  const announced = new Set<string>();
  return (event: { status: string; file?: string; name?: string }) => {
    if (event.name && (isAbsolute(event.name) || existsSync(event.name))) return;
    if (event.status === "download" && event.file && !announced.has(event.file)) {
      announced.add(event.file);
      process.stderr.write(`Downloading ${event.name ?? "model"}/${event.file}...\n`);
    }
  };
}
