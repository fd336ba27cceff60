/**
 * The tiny-bert fixture through @langchain/community's HuggingFaceTransformersEmbeddings, on the transformers.js
 * this repository installs: the check script the consumer test (issue 18) also runs, so the fixture is known good
 * here before it is used there.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("tiny-bert fixture", () => {
  it("loads offline through community's class and matches the PyTorch reference", async () => {
    const { stdout } = await run(process.execPath, ["scripts/community/embed_texts.mjs"]);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(result.failures).toEqual([]);
    expect(result.dimension).toBe(32);
    expect(result.texts).toBe(7);
    expect(result.minParityCosine).toBeGreaterThanOrEqual(0.99999);
    // Over 128 tokens transformers.js drops the final [SEP] that Python keeps.
    expect(result.minParityCosineTruncated).toBeGreaterThanOrEqual(0.999);
    expect(result.maxPairCosine).toBeLessThan(0.99);
    expect(result.deterministic).toBe(true);
  });
});
