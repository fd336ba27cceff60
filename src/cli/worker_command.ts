/** `image-embeddings worker --queue ... --store ...`: embeds queued batches into Postgres until stopped. */
import { Command, Option } from "commander";
import { queueNameOption, queueOption, storeOption } from "./store_options.js";
import { positiveInteger, positiveNumber } from "./shared.js";

interface WorkerCommandOptions {
  queue?: string;
  store?: string;
  queueName: string;
  concurrency: number;
  batchSeconds: number;
  quiet?: boolean;
}

export function workerCommand(): Command {
  return new Command("worker")
    .summary("embed the batches queued by `index --queue` (run any number, on any machine)")
    .description(
      "Take batch jobs from the Redis queue, embed their files and upsert the vectors into the Postgres store. " +
        "The model comes with the work (the coordinator's --model, recorded in the store), so a worker may start " +
        "before any index exists. Files are read at the paths the coordinator saw: run workers where those paths " +
        "resolve to the same files (a shared mount). A killed worker's batch runs on another one within seconds; " +
        "SIGTERM or Ctrl-C lets the batch in flight finish, then exits.",
    )
    .addOption(queueOption().makeOptionMandatory())
    .addOption(storeOption().makeOptionMandatory())
    .addOption(queueNameOption())
    .addOption(
      new Option("--concurrency <n>", "batches embedded at once in this process")
        .argParser(positiveInteger("--concurrency"))
        .default(1),
    )
    .addOption(
      new Option(
        "--batch-seconds <s>",
        "expected seconds per batch: a killed worker's batch is taken back after twice this (at least 4 s)",
      )
        .argParser(positiveNumber("--batch-seconds"))
        .default(2),
    )
    .addOption(new Option("--quiet", "no line per batch on stderr"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  image-embeddings worker --queue redis://queue:6379 --store postgres://me@db:5432/photos\n" +
        "  IMAGE_EMBEDDINGS_QUEUE=redis://queue:6379 IMAGE_EMBEDDINGS_STORE=postgres://me@db/photos image-embeddings worker",
    )
    .action(async (options: WorkerCommandOptions) => runWorker(options));
}

async function runWorker(options: WorkerCommandOptions): Promise<void> {
  const { startIndexWorker } = await import("../distributed/index_worker.js");
  const say = (line: string) => {
    if (!options.quiet) process.stderr.write(`${line}\n`);
  };
  const worker = await startIndexWorker({
    queue: options.queue!,
    store: options.store!,
    queueName: options.queueName,
    concurrency: options.concurrency,
    batchSeconds: options.batchSeconds,
    onBatch: ({ jobId, stored, failed, seconds }) =>
      say(`${jobId.slice(0, 18)}: ${stored} stored, ${failed} failed in ${seconds.toFixed(1)} s`),
    onError: (error) => say(`error (the batch is retried): ${error.message}`),
  });
  say(`Worker ${process.pid} waiting for batches (SIGTERM or Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130); // a second signal: quit now, the stall check returns the batch
      stopping = true;
      say(`${signal}: finishing the batch in flight, then exiting`);
      void worker.close().finally(resolve);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  say("Worker stopped");
}
