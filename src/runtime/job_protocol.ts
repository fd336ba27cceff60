/**
 * The messages between a `JobWorker` (the caller's thread, job_worker.ts) and `serveJobs`
 * (the worker thread, serve_jobs.ts). A request names a job handler; replies carry its
 * value or error, events for that request, or events published on a topic.
 */
export interface JobRequest {
  id: number;
  job: string;
  payload: unknown;
}

/** An error as it crosses threads: name and message (serve_jobs.ts sends, job_worker.ts rebuilds). */
export interface SentError {
  name: string;
  message: string;
}

export type JobReply =
  | { id: number; value: unknown; error?: undefined; event?: undefined }
  | { id: number; error: SentError; value?: undefined; event?: undefined }
  /** An event from the handler of request `id`, before its reply. */
  | { id: number; event: unknown; value?: undefined; error?: undefined }
  /** An event not tied to one request (e.g. a model's load progress), for the topic's subscriber. */
  | { topic: string; event: unknown; id?: undefined };
