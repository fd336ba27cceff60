/**
 * The `inference` option: models run in a shared worker thread by default, or on the
 * calling thread. Both give the same vectors, also side by side in one process; an idle
 * worker never keeps a process alive;
 * inference yields the CPU to the caller's thread.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ImageEmbeddings } from "../../src/index.js";
import { FIXTURE_IMAGES, TINY_CLIP } from "../helpers/fixtures.js";
import { runTsx } from "../helpers/run_process.js";

const IMAGE = join(FIXTURE_IMAGES, "red-circle-80.png");

async function embedInChild(inference: string, ...flags: string[]) {
  const run = await runTsx("test/helpers/embed_in_child.ts", [TINY_CLIP, IMAGE, inference, ...flags], {
    timeoutMs: 60_000,
  });
  return {
    ...run,
    vectors: run.status === 0 ? (JSON.parse(run.stdout) as { image: number[]; text: number[] }) : undefined,
  };
}

describe("inference thread", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  afterAll(() => embeddings.dispose());

  it("defaults to the worker, and gives the same vectors as the main thread", async () => {
    expect(embeddings.inference).toBe("worker");
    const image = await embeddings.embedImage(IMAGE);
    const text = await embeddings.embedQuery("a red circle");
    const main = await embedInChild("main");
    expect(main.status, main.stderr).toBe(0);
    main.vectors!.image.forEach((x, i) => expect(x).toBeCloseTo(image[i], 6));
    main.vectors!.text.forEach((x, i) => expect(x).toBeCloseTo(text[i], 6));
  });

  it("shares one worker between instances, and a disposed instance runs again", async () => {
    const other = new ImageEmbeddings({ model: TINY_CLIP, dtype: "q8" });
    const [a, b] = await Promise.all([embeddings.embedImage(IMAGE), other.embedImage(IMAGE)]);
    const cosine = a.reduce((s, x, i) => s + x * b[i], 0);
    expect(cosine).toBeGreaterThan(0.98);
    expect(cosine).toBeLessThan(1 - 1e-7); // q8 really is a different session
    await other.dispose();
    expect(await other.embedImage(IMAGE)).toEqual(b);
    await other.dispose();
  });

  it("runs inference: 'main' beside the worker in one process, with the same vectors", async () => {
    const main = new ImageEmbeddings({ model: TINY_CLIP, inference: "main" });
    const [onMain, inWorker] = await Promise.all([
      main.embedQuery("a red circle"),
      embeddings.embedQuery("a red circle"),
    ]);
    onMain.forEach((x, i) => expect(x).toBeCloseTo(inWorker[i], 6));
    await main.dispose();
  });

  it("rejects an unknown inference value", () => {
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, inference: "gpu" as never })).toThrow(
      /Expected "worker" or "main" for inference but received "gpu"/,
    );
  });

  it("lets a process exit when the worker is idle, even without dispose()", async () => {
    const run = await embedInChild("worker", "--no-dispose");
    expect(run.signal).toBeNull(); // not killed by the timeout
    expect(run.status, run.stderr).toBe(0);
    expect(run.vectors!.image).toHaveLength(64);
  });

  // Linux only: elsewhere a nice value is per process, and the worker leaves it alone.
  it.runIf(process.platform === "linux")(
    "runs the worker and onnxruntime's threads at a lower priority than this thread",
    async () => {
      await embeddings.embedImage(IMAGE);
      // Field 19 of /proc/<pid>/task/<tid>/stat, counting from the state after "(comm) ".
      const niceOf = (tid: string) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[16]);
      };
      const mine = niceOf(String(process.pid));
      const lowered = readdirSync("/proc/self/task").filter((tid) => niceOf(tid) === 10);
      expect(mine).toBeLessThan(10);
      // The worker's own thread and onnxruntime's intra-op pool, which inherits its nice value.
      expect(lowered.length).toBeGreaterThanOrEqual(2);
    },
  );
});
