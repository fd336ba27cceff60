/** A worker entry for test/runtime/job_worker.test.ts: small jobs that exercise the job protocol. */
import { serveJobs, type JobContext } from "../../src/runtime/serve_jobs.js";

serveJobs({
  double({ values }: { values: Float64Array }, context: JobContext) {
    const doubled = values.map((v) => v * 2);
    context.transfer(doubled.buffer);
    return { doubled, receivedBytes: values.byteLength };
  },
  async count({ to }: { to: number }, context: JobContext) {
    for (let i = 1; i <= to; i++) context.emit(i);
    return "counted";
  },
  announce({ topic }: { topic: string }, context: JobContext) {
    context.publish(topic, `news on ${topic}`);
  },
  fail() {
    throw new RangeError("the value is out of range");
  },
  exit() {
    process.exit(3);
  },
});
