/**
 * Cold import time of the package root: each run is a fresh `node -e "import('<dir>/dist/index.js')"`
 * process, timed from spawn to exit. Several builds are measured side by side, interleaved,
 * so that other load on the machine falls on all of them alike.
 *
 *   npx tsx bench/import_time.ts [runs] [dir ...]    (default: 10 runs of this checkout)
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [runsArg, ...dirsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 10);
const dirs = (dirsArg.length ? dirsArg : ["."]).map((dir) => resolve(dir));

const times = new Map<string, number[]>(dirs.map((dir) => [dir, []]));
for (let run = 0; run < runs; run++) {
  for (const dir of dirs) {
    const entry = pathToFileURL(resolve(dir, "dist/index.js")).href;
    const started = performance.now();
    const child = spawnSync(process.execPath, ["-e", `import(${JSON.stringify(entry)})`], { encoding: "utf8" });
    if (child.status !== 0) throw new Error(`import of ${entry} failed: ${child.stderr}`);
    times.get(dir)!.push(performance.now() - started);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
for (const [dir, values] of times) {
  const ms = values.map((v) => v.toFixed(0)).join(" ");
  console.log(`${dir}: median ${median(values).toFixed(0)} ms over ${values.length} fresh processes (${ms})`);
}
