/**
 * Lets the caller's thread preempt a worker's heavy computation. While a batch runs,
 * onnxruntime's threads keep every core busy, and the caller's event loop waited for a
 * time slice (p99 delay 50-65 ms with 2 cores). On Linux a nice value belongs to one
 * thread, and the threads it starts inherit it: the worker and onnxruntime's pool
 * (started with the first model) yield to the caller's thread, which needs little CPU.
 * Elsewhere it would lower the whole process, so it is left alone.
 * IMAGE_EMBEDDINGS_WORKER_NICE=0 turns it off.
 */
import { setPriority } from "node:os";

export function lowerThisThreadPriority(): void {
  const nice = Number(process.env.IMAGE_EMBEDDINGS_WORKER_NICE ?? 10);
  if (process.platform !== "linux" || !Number.isInteger(nice) || nice <= 0 || nice > 19) return;
  try {
    setPriority(nice);
  } catch {
    // Not permitted here (some sandboxes): the worker simply keeps the default priority.
  }
}
