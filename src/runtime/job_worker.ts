/**
 * The caller's side of the job protocol: a worker thread that runs named jobs
 * (serve_jobs.ts) and answers each with a value or an error, with events on the way.
 * Buffers are transferred, not copied. A worker starts on first use, lives as long as
 * the process, and is `unref`'d while idle, so a forgotten `dispose()` never keeps the
 * process alive. A dead worker is not replaced: whatever killed it (out of memory, a
 * native fault) would likely kill the next; every call then fails with why it died.
 *
 * This file knows nothing of what the jobs do; models/ and training/ define their own.
 */
import { Worker } from "node:worker_threads";
import type { JobReply, SentError } from "./job_protocol.js";
import { resolveWorkerEntry, type WorkerEntry } from "./worker_entry.js";

export interface JobOptions {
  /** Buffers moved to the worker with the request (the caller must not touch them afterwards). */
  transfer?: ArrayBuffer[];
  /** Events the handler emits for this request, in order, before the reply. */
  onEvent?: (event: unknown) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onEvent?: (event: unknown) => void;
}

/** What a worker is called in errors, and what to do once it has died. */
export interface WorkerDescription {
  label: string;
  afterDeath: string;
}

export class JobWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly subscribers = new Map<string, (event: unknown) => void>();
  private nextId = 1;
  private died?: Error;

  constructor(entry: WorkerEntry, description: WorkerDescription) {
    const resolved = resolveWorkerEntry(entry);
    // The worker needs none of the parent's node flags, and some (--input-type, --eval) break it.
    this.worker = resolved.url
      ? new Worker(resolved.url, { execArgv: [] })
      : new Worker(resolved.script, { eval: true, execArgv: [] });
    this.worker.unref();
    this.worker.on("message", (message: JobReply) => {
      if (message.id === undefined) return this.subscribers.get(message.topic)?.(message.event);
      if (message.event !== undefined) return this.pending.get(message.id)?.onEvent?.(message.event);
      const entry = this.settle(message.id);
      if (message.error) entry?.reject(rebuildError(message.error));
      else entry?.resolve(message.value);
    });
    const die = (error: Error) => {
      this.died ??= error;
      for (const id of [...this.pending.keys()]) this.settle(id)?.reject(this.died);
    };
    this.worker.on("error", (error) =>
      die(new Error(`The ${description.label} failed: ${error.message}`, { cause: error })),
    );
    this.worker.on("exit", (code) =>
      die(new Error(`The ${description.label} exited (code ${code}); ${description.afterDeath}`)),
    );
  }

  /** Runs `job` with `payload` in the worker; resolves with the handler's value, rejects with its error. */
  request<T>(job: string, payload: unknown, options: JobOptions = {}): Promise<T> {
    if (this.died) return Promise.reject(this.died);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onEvent: options.onEvent });
      this.worker.postMessage({ id, job, payload }, options.transfer ?? []);
    });
  }

  /** Receives the events the worker publishes on `topic` (one listener per topic). */
  subscribe(topic: string, listener: (event: unknown) => void): void {
    this.subscribers.set(topic, listener);
  }

  unsubscribe(topic: string): void {
    this.subscribers.delete(topic);
  }

  private settle(id: number): Pending | undefined {
    const entry = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return entry;
  }
}

/**
 * The process's workers of one entry, numbered from 0 and started on first use, shared
 * by every caller so that they share the cores rather than oversubscribe them.
 */
export class WorkerPool {
  private readonly workers: JobWorker[] = [];

  constructor(
    private readonly entry: WorkerEntry,
    private readonly description: WorkerDescription,
  ) {}

  worker(slot = 0): JobWorker {
    this.workers[slot] ??= new JobWorker(this.entry, this.description);
    return this.workers[slot];
  }
}

/** Errors cross threads as name and message; the common built-in types come back as themselves. */
function rebuildError({ name, message }: SentError): Error {
  const Type = ({ TypeError, RangeError } as Record<string, ErrorConstructor>)[name] ?? Error;
  return Object.assign(new Type(message), { name });
}

/** A buffer can be moved to the worker only when the array is all of it (callers here allocate one per batch). */
export function transferable(array: ArrayBufferView): ArrayBuffer[] {
  const buffer = array.buffer as ArrayBuffer;
  return array.byteOffset === 0 && array.byteLength === buffer.byteLength ? [buffer] : [];
}
