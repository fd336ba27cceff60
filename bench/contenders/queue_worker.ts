/**
 * One queue worker process for the distributed benchmark (queued_index.ts starts it):
 * `startIndexWorker` with a given number of onnxruntime threads. Prints `READY` once it
 * listens and a `BATCH {...}` line per batch; on SIGTERM it finishes, closes, and reports
 * its CPU time and peak RSS.
 */
import { startIndexWorker } from "../../src/distributed/index_worker.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{ queue: string; store: string; threads: number; batchSeconds: number }>();
const cpuBefore = process.cpuUsage();
let batches = 0;
const worker = await startIndexWorker({
  queue: args.queue,
  store: args.store,
  batchSeconds: args.batchSeconds,
  embeddings: { threads: args.threads },
  onBatch: (info) => {
    batches++;
    // CPU so far, so that the orchestrator can leave the model load and warm-up out.
    const cpu = process.cpuUsage(cpuBefore);
    process.stdout.write(`BATCH ${JSON.stringify({ ...info, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
  },
  onError: (error) => process.stderr.write(`worker error: ${error.message}\n`),
});
process.stdout.write("READY\n");
process.once("SIGTERM", () => {
  void worker.close().then(() => {
    const cpu = process.cpuUsage(cpuBefore);
    report({ batches, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: process.resourceUsage().maxRSS / 1024 });
    process.exit(0);
  });
});
