import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../helpers/redis_server.js";
import { loadBullmq } from "../../src/utils/imports.js";

describe("startRedisServer", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("serves a private Redis that BullMQ can queue on, and adding a known job id again does nothing", async () => {
    const { Queue } = await loadBullmq();
    const queue = new Queue("helper-check", { connection: { url: redis.url } });
    try {
      await queue.add("x", { n: 1 }, { jobId: "same" });
      await queue.add("x", { n: 2 }, { jobId: "same" });
      expect(await queue.getJobCounts("waiting")).toEqual({ waiting: 1 });
      expect((await queue.getJob("same"))!.data).toEqual({ n: 1 });
    } finally {
      await queue.close();
    }
  });

  it("stops the child process", async () => {
    const other = await startRedisServer();
    await other.stop();
    expect(other.child.exitCode !== null || other.child.signalCode !== null).toBe(true);
  });
});
