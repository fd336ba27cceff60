/**
 * The worker thread's side of the job protocol: runs the named handlers for the
 * requests that arrive, one reply each, with any buffers the handler hands over
 * transferred rather than copied.
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import type { JobReply, JobRequest } from "./job_protocol.js";

export interface JobContext {
  /** Sends an event to the caller of this request (its `onEvent`). */
  emit(event: unknown): void;
  /** Sends an event to whoever subscribed to `topic` on the caller's side. */
  publish(topic: string, event: unknown): void;
  /** Moves these buffers with the reply instead of copying them (the handler must not touch them afterwards). */
  transfer(...buffers: ArrayBufferLike[]): void;
}

export type JobHandler = (payload: never, context: JobContext) => unknown;

/** Serves `handlers` on this worker thread's parent port. */
export function serveJobs(handlers: Record<string, JobHandler>, port: MessagePort | null = parentPort): void {
  if (!port) throw new Error("serveJobs runs only in a worker thread (see runtime/job_worker.ts)");
  const publish = (topic: string, event: unknown) => port.postMessage({ topic, event } satisfies JobReply);
  port.on("message", async ({ id, job, payload }: JobRequest) => {
    const transfers: ArrayBuffer[] = [];
    const context: JobContext = {
      emit: (event) => port.postMessage({ id, event } satisfies JobReply),
      publish,
      transfer: (...buffers) => transfers.push(...(buffers as ArrayBuffer[])),
    };
    try {
      const handler = Object.hasOwn(handlers, job) ? handlers[job] : undefined;
      if (!handler) throw new Error(`no job "${job}" in this worker`);
      const value = await handler(payload as never, context);
      port.postMessage({ id, value } satisfies JobReply, transfers);
    } catch (error) {
      const e = error as Error;
      port.postMessage({
        id,
        error: { name: e?.name ?? "Error", message: e?.message ?? String(error) },
      } satisfies JobReply);
    }
  });
}
