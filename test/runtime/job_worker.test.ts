/**
 * runtime/'s job protocol on its own, with a worker entry that knows nothing of models
 * (test/helpers/job_worker_fixture.ts): replies, transferred buffers, events, topics,
 * errors, and a worker that dies.
 */
import { describe, expect, it } from "vitest";
import { JobWorker, transferable } from "../../src/runtime/job_worker.js";

const entry = {
  name: "job_worker_fixture",
  source: new URL("../helpers/job_worker_fixture.ts", import.meta.url).href,
};
const description = { label: "test worker", afterDeath: "start another" };

describe("JobWorker", () => {
  const worker = new JobWorker(entry, description);

  it("runs a named job and moves the buffers both ways instead of copying them", async () => {
    const values = Float64Array.from([1, 2, 3]);
    const reply = await worker.request<{ doubled: Float64Array; receivedBytes: number }>(
      "double",
      { values },
      { transfer: transferable(values) },
    );
    expect([...reply.doubled]).toEqual([2, 4, 6]);
    expect(reply.receivedBytes).toBe(24);
    expect(values.byteLength).toBe(0); // moved to the worker
  });

  it("delivers a job's events in order, before its reply", async () => {
    const events: unknown[] = [];
    const reply = await worker.request("count", { to: 5 }, { onEvent: (event) => events.push(event) });
    expect(reply).toBe("counted");
    expect(events).toEqual([1, 2, 3, 4, 5]);
  });

  it("delivers published events to the topic's subscriber only", async () => {
    const heard: unknown[] = [];
    worker.subscribe("weather", (event) => heard.push(event));
    await worker.request("announce", { topic: "weather" });
    await worker.request("announce", { topic: "sports" });
    worker.unsubscribe("weather");
    await worker.request("announce", { topic: "weather" });
    expect(heard).toEqual(["news on weather"]);
  });

  it("brings errors back with their type and message, and names an unknown job", async () => {
    const failed = worker.request("fail", {});
    await expect(failed).rejects.toThrow(RangeError);
    await expect(failed).rejects.toThrow("the value is out of range");
    await expect(worker.request("nonexistent", {})).rejects.toThrow('no job "nonexistent" in this worker');
    // Errors leave the worker usable.
    await expect(worker.request("count", { to: 0 })).resolves.toBe("counted");
  });

  it("fails the job in flight, and every later one, when the worker dies", async () => {
    const dying = new JobWorker(entry, description);
    await expect(dying.request("exit", {})).rejects.toThrow("The test worker exited (code 3); start another");
    await expect(dying.request("count", { to: 1 })).rejects.toThrow("The test worker exited (code 3)");
  });
});
