/**
 * bench/scale.ts and bench/scale_report.ts end to end at a tiny size, with real processes
 * and real faiss: builds stream their chunks, the ground truth makes exact search score a
 * recall of 1, an IVF store is seen training in the chunk where it reaches its training
 * size, and the report writes its section and plot without touching the rest of the file.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../bench/scale/runner.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
let results: string;
let docs: string;

/** Runs a script in its own process; asynchronously, so the test worker keeps answering vitest meanwhile. */
async function tsx(script: string, args: string[]) {
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", join(ROOT, script), ...args], {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${script} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
}
const tiny = ["--queries", "20", "--chunk", "1000", "--batch-seconds", "0.05", "--heap-mb", "1024"];

beforeAll(async () => {
  results = await mkdtemp(join(tmpdir(), "scale-results-"));
  docs = await mkdtemp(join(tmpdir(), "scale-docs-"));
});
afterAll(async () => {
  await rm(results, { recursive: true, force: true });
  await rm(docs, { recursive: true, force: true });
});

describe("bench/scale.ts", () => {
  it("measures exact search at recall 1 over a streamed store, at each size of the cost command", async () => {
    await tsx("bench/scale.ts", [
      "cost",
      "--counts",
      "2000,3500",
      "--index",
      "Flat",
      "--results",
      results,
      "--clusters",
      "50",
      ...tiny,
    ]);
    const cost = JSON.parse(await readFile(join(results, "scale-cost.json"), "utf8"));
    expect(Object.keys(cost.runs)).toEqual(["2000", "3500"]);
    for (const [count, run] of Object.entries(cost.runs as Record<string, RunResult>)) {
      expect(run.spec.count).toBe(Number(count));
      expect(run.build.trained).toBe(true);
      expect(run.build.count).toBe(Number(count));
      // A flat index is the vectors themselves: 2,048 bytes per 512-d vector, plus a small header.
      expect(run.build.indexBytesPerVector).toBeGreaterThanOrEqual(2048);
      expect(run.build.indexBytesPerVector).toBeLessThan(2049);
      expect(run.build.addPerSecond).toBeGreaterThan(0);
      expect(run.build.rss.peakVmHwmMb).toBeGreaterThanOrEqual(run.build.rss.builtMb);
      expect(run.build.rss.at.at(-1).vectors).toBe(Number(count));
      const [search] = run.searches;
      expect(search.recallAt10).toBe(1);
      expect(search.p50Ms).toBeGreaterThan(0);
      expect(search.p99Ms).toBeGreaterThanOrEqual(search.p50Ms);
      expect(search.rss.afterLoadMb).toBeGreaterThan(search.rss.beforeLoadMb);
      expect(search.batch.queriesPerSecond).toBeGreaterThan(0);
    }
    // Stores not asked to be kept are removed.
    expect(existsSync(join(results, "scale", "cost-2k-Flat"))).toBe(false);
  }, 300_000);

  it("records the chunk in which an IVF store trains, and keeps the store when asked", async () => {
    await tsx("bench/scale.ts", [
      "run",
      ...["--count", "4000", "--index", "IVF16,Flat", "--nprobe", "16,1", "--label", "ivf-tiny", "--keep"],
      ...["--option", "ivfTrainSize=1500", "--results", results, ...tiny],
    ]);
    const run = JSON.parse(await readFile(join(results, "scale-ivf-tiny.json"), "utf8"));
    expect(run.buildOptions).toEqual({ indexType: "IVF16,Flat", ivfTrainSize: 1500 });
    expect(run.build.trained).toBe(true);
    // 1,500 vectors are reached in the second chunk of 1,000: that call trained and added the first 2,000.
    expect(run.build.trainingCall.afterVectors).toBe(2000);
    expect(run.build.steadyAddPerSecond).toBeGreaterThan(0);
    expect(run.build.trainSeconds).toBeGreaterThanOrEqual(0);
    expect(run.build.trainSeconds).toBeLessThanOrEqual(run.build.trainingCall.seconds);
    const [all, one] = run.searches;
    expect(all.loadOptions).toEqual({ nprobe: 16 });
    expect(all.recallAt10).toBe(1); // every list probed: exact
    expect(one.loadOptions).toEqual({ nprobe: 1 });
    // One list of 16, with 1,000 groups of about 4 vectors each, so that a query's neighbours span several lists:
    // below 1 shows the load option reached the index.
    expect(one.recallAt10).toBeLessThan(0.9);
    expect(existsSync(join(results, "scale", "ivf-tiny", "store", "CURRENT"))).toBe(true);
    const truth = JSON.parse(await readFile(join(results, "scale", "ivf-tiny", "ground-truth.json"), "utf8"));
    expect(truth.ids).toHaveLength(20);
    for (const ids of truth.ids) expect(ids).toHaveLength(10);
  }, 300_000);

  it("reads the vector files of a store with vectors on disk once before a warm search, and says how many bytes", async () => {
    await tsx("bench/scale.ts", [
      "run",
      ...["--count", "3000", "--index", "IVF16,PQ8np", "--vectors-on-disk", "--nprobe", "16", "--rerank", "0,300"],
      ...["--cache", "warm", "--option", "trainSize=2000", "--label", "warm-tiny", "--results", results, ...tiny],
    ]);
    const run = JSON.parse(await readFile(join(results, "scale-warm-tiny.json"), "utf8"));
    const [codes, reranked] = run.searches;
    expect(reranked.loadOptions).toEqual({ vectorsOnDisk: true, nprobe: 16, rerank: 300, cache: "warm" });
    for (const search of run.searches) {
      expect(search.prefetch.bytes).toBe(3000 * 512 * 4);
      expect(search.prefetch.seconds).toBeGreaterThan(0);
    }
    // PQ8 codes are coarse (64 dimensions a byte): re-scoring the best 300 of 3,000 exactly from the prefetched
    // vectors lifts recall@10 well above the codes' own (about 0.3 to 0.65 on this tiny, nearly uniform set).
    expect(reranked.recallAt10).toBeGreaterThan(codes.recallAt10 + 0.2);
  }, 300_000);

  it("keeps efConstruction runs of other sizes in scale-efc.json, each with the command that measured it", async () => {
    const efc = (count: string) =>
      tsx("bench/scale.ts", [
        "efc",
        ...["--count", count, "--ef-construction", "16", "--ef-search", "16", "--results", results, ...tiny],
      ]);
    await efc("1500");
    await efc("2500");
    await efc("1500"); // the same size and efConstruction again: replaced, not added
    const { runs } = JSON.parse(await readFile(join(results, "scale-efc.json"), "utf8"));
    expect(runs.map((r: RunResult) => [r.spec.count, r.buildOptions.efConstruction])).toEqual([
      [1500, 16],
      [2500, 16],
    ]);
    expect(runs[1].command).toContain("efc --count 2500 --ef-construction 16");
    for (const r of runs) expect(r.searches[0].recallAt10).toBeGreaterThan(0.5);
  }, 300_000);
});

describe("bench/scale_report.ts", () => {
  it("writes its section and the cost plot, leaving the other sections of benchmarks.md as they were", async () => {
    const before =
      "# Benchmarks\n\n## Search\n\nkeep me\n\n## Ten million images\n\nold numbers\n\n## Bulk add\n\nkeep me too\n";
    await writeFile(join(docs, "benchmarks.md"), before);
    await tsx("bench/scale_report.ts", ["--results", results, "--out", docs]);
    const after = await readFile(join(docs, "benchmarks.md"), "utf8");
    expect(after.startsWith("# Benchmarks\n\n## Search\n\nkeep me\n\n## Ten million images\n")).toBe(true);
    expect(after.endsWith("## Bulk add\n\nkeep me too\n")).toBe(true);
    expect(after).not.toContain("old numbers");
    expect(after).toContain("### Cost as work grows: `Flat`");
    // One efConstruction table per size, each with its own command.
    expect(after).toContain("### HNSW32: efConstruction against recall and latency (1,500 vectors)");
    expect(after).toContain("### HNSW32: efConstruction against recall and latency (2,500 vectors)");
    expect(after).toMatch(/Reproduce: `npx tsx bench\/scale.ts efc --count 2500 [^`]*`\./);
    expect(after).toMatch(/\| 3,500 \| `Flat` \| [\d.]+ MB \|/);
    expect(after).toContain('npx tsx bench/scale.ts cost --counts 2000,3500 --index "Flat"');
    expect(after).toContain(
      "| 10M vectors: peak RSS ≤ 8 GB, recall@10 ≥ 0.90 at p50 ≤ 20 ms | see issue 17 | not measured",
    );
    const svg = await readFile(join(docs, "scale-cost.svg"), "utf8");
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  }, 120_000);
});
