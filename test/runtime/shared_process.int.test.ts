/**
 * One process, three users of onnxruntime: `ImageEmbeddings` with its defaults (the
 * inference worker), an `ImageEmbeddings` with `inference: "main"`, and transformers.js
 * used directly on the main thread. They take turns and run concurrently for 20 rounds.
 * With onnxruntime-node 1.21 (transformers.js 3.8) the same child aborted the process on
 * the second round (exit 134, "Cannot create a handle without a HandleScope").
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURE_IMAGES, TINY_CLIP } from "../helpers/fixtures.js";
import { runTsx } from "../helpers/run_process.js";

const ROUNDS = 20;

describe("sharing the process with transformers.js", () => {
  it(`runs the worker, the main thread and direct transformers.js together for ${ROUNDS} rounds`, async () => {
    const run = await runTsx("test/helpers/shared_process_child.ts", [
      TINY_CLIP,
      join(FIXTURE_IMAGES, "red-circle-80.png"),
      String(ROUNDS),
    ]);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const { workerVectors, mainVectors, directVectors } = JSON.parse(run.stdout) as Record<string, number[][]>;
    expect(workerVectors).toHaveLength(2 * ROUNDS);
    expect(mainVectors).toHaveLength(2 * ROUNDS);
    expect(directVectors).toHaveLength(ROUNDS);
    // The same image gives bit-identical vectors every round, in turns and concurrently.
    for (const vector of workerVectors) expect(vector).toEqual(workerVectors[0]);
    for (const vector of mainVectors) expect(vector).toEqual(mainVectors[0]);
    // Both threads run the same model.
    mainVectors[0].forEach((x, i) => expect(x).toBeCloseTo(workerVectors[0][i], 6));
    // The app's own text sessions stayed stable too (texts repeat every third round).
    directVectors.forEach((vector, round) => expect(vector).toEqual(directVectors[round % 3]));
  }, 150_000);
});
