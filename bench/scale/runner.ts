/**
 * Runs one configuration of the scale benchmark: a build child (bench/scale/build_child.ts)
 * and then one fresh search child per search setting (bench/scale/search_child.ts), each
 * in its own process so that every peak RSS and every load is measured alone. Writes the
 * result to .cache/bench/scale-<label>.json.
 */
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import type { DatasetSpec } from "./dataset.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const CACHE = join(ROOT, ".cache/bench");

export interface RunConfig {
  label: string;
  spec: DatasetSpec;
  /** Store options for the build, passed through as they are (indexType, trainSize, threads, vectorsOnDisk...). */
  build: Record<string, unknown>;
  /** One search child per entry: its load options (nprobe, efSearch, rerank, threads, vectorsOnDisk...). */
  searches: Record<string, unknown>[];
  /** OpenMP threads of the build child (OMP_NUM_THREADS); a search's `threads` sets its own. */
  threads?: number;
  /** Keep the saved store in .cache/bench/scale/<label> after the run (it is removed otherwise). */
  keep?: boolean;
  /** Reuse a store kept by an earlier run with the same data and build options, instead of building again. */
  reuse?: boolean;
  /** V8 heap limit of the children, MB: a store's Documents live on the JS heap (10M of them need several GB). */
  heapMb?: number;
  /** Seconds each search child repeats its batch search for. */
  batchSeconds?: number;
  /** Where results and kept stores go. Default: .cache/bench. */
  resultsDir?: string;
}

export type RunResult = Record<string, any>;

/** A file name part made of the label's safe characters. */
export const slug = (label: string) => label.replace(/[^A-Za-z0-9._-]+/g, "_");

export async function runConfig(config: RunConfig, log: (line: string) => void = console.log): Promise<RunResult> {
  const results = config.resultsDir ?? CACHE;
  const dir = join(results, "scale", slug(config.label));
  const recordFile = join(dir, "build.json");
  const identity = JSON.stringify({ spec: config.spec, build: config.build, threads: config.threads });
  let build: RunResult | undefined;
  if (config.reuse && existsSync(recordFile)) {
    const recorded = JSON.parse(await readFile(recordFile, "utf8"));
    if (recorded.identity === identity) {
      build = { ...recorded.build, reused: true };
      log(`  ${config.label}: reusing the store built earlier in ${dir}`);
    }
  }
  if (!build) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    build = runChild("build_child.ts", { ...config.spec, dir, storeOptions: config.build }, config, config.threads);
    log(
      `  ${config.label}: built ${config.spec.count.toLocaleString("en")} vectors in ${build.buildSeconds.toFixed(1)} s ` +
        `(${Math.round(build.addPerSecond).toLocaleString("en")}/s), peak RSS ${Math.round(build.rss.peakVmHwmMb)} MB`,
    );
    await writeJson(recordFile, { identity, build });
  }

  const searches: RunResult[] = [];
  for (const loadOptions of config.searches) {
    const threads = typeof loadOptions.threads === "number" ? loadOptions.threads : config.threads;
    if (loadOptions.cache === "cold") dropPageCache();
    const result = runChild(
      "search_child.ts",
      { dir, spec: config.spec, loadOptions, batchSeconds: config.batchSeconds ?? 2 },
      config,
      threads,
    );
    log(
      `  ${config.label} ${JSON.stringify(loadOptions)}: load ${result.loadSeconds.toFixed(1)} s, ` +
        `p50 ${result.p50Ms.toFixed(2)} ms, recall@10 ${result.recallAt10.toFixed(3)}`,
    );
    searches.push(result);
  }
  if (!config.keep) await rm(dir, { recursive: true, force: true });

  const result: RunResult = {
    label: config.label,
    date: new Date().toISOString(),
    machine: machine(),
    spec: config.spec,
    buildOptions: config.build,
    threads: config.threads,
    build,
    searches,
  };
  await writeJson(join(results, `scale-${slug(config.label)}.json`), result);
  return result;
}

/** Writes dirty pages out, then asks the kernel to drop its clean page cache: the next reads go to the disk. */
function dropPageCache(): void {
  spawnSync("sync");
  try {
    writeFileSync("/proc/sys/vm/drop_caches", "1");
  } catch (error) {
    throw new Error(
      `--cache cold drops the page cache through /proc/sys/vm/drop_caches, which needs root: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function runChild(script: string, input: unknown, config: RunConfig, threads: number | undefined): RunResult {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The faiss option `threads` (contract of issue 17) needs the merged addon; OMP_NUM_THREADS works today.
  if (threads !== undefined) env.OMP_NUM_THREADS = String(threads);
  const run = spawnSync(
    process.execPath,
    [`--max-old-space-size=${config.heapMb ?? 16384}`, "--import", "tsx", join(ROOT, "bench/scale", script)],
    { cwd: ROOT, input: JSON.stringify(input), encoding: "utf8", maxBuffer: 64 << 20, env },
  );
  const line = run.stdout?.split("\n").find((l) => l.startsWith("RESULT "));
  if (run.status !== 0 || !line) {
    throw new Error(
      `${config.label}: ${script} failed (exit ${run.status ?? run.signal}):\n${run.stderr?.slice(-3000)}`,
    );
  }
  return JSON.parse(line.slice("RESULT ".length));
}

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** Written whole to a temporary file and renamed, so a killed run never leaves half a JSON file. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(resolve(file, ".."), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(value, null, 2));
  await rename(`${file}.tmp`, file);
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  return existsSync(file) ? (JSON.parse(await readFile(file, "utf8")) as T) : undefined;
}
