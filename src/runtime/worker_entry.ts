/**
 * Where a worker's entry file lives: dist/<name>.{js,cjs} once built (the calling code
 * may sit in dist/ or in dist/cli-chunks/), or the TypeScript source next to the caller
 * when running from source under tsx or vitest. A worker does not inherit tsx's loader
 * (nor does `--import` in its execArgv apply on Node 20), so from source a small script
 * loads the TypeScript file through tsx's API.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A worker entry: its built name (a tsup entry in tsup.config.ts) and its source file. */
export interface WorkerEntry {
  /** The built file's name without extension, e.g. `tower_worker`. */
  name: string;
  /** The source file, e.g. `new URL("./tower_worker.ts", import.meta.url).href`, used when running from source. */
  source: string;
  /** Added to the error when the built file is missing (e.g. how to run without the worker). */
  hint?: string;
}

export type ResolvedEntry = { url: URL; script?: undefined } | { url?: undefined; script: string };

export function resolveWorkerEntry(entry: WorkerEntry): ResolvedEntry {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    const api = tsxEsmApi(here);
    const file = JSON.stringify(entry.source);
    return { script: `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${file}, ${file}));` };
  }
  const file = here.endsWith(".cjs") ? `${entry.name}.cjs` : `${entry.name}.js`;
  for (const candidate of [`./${file}`, `../${file}`]) {
    const url = new URL(candidate, here);
    if (existsSync(fileURLToPath(url))) return { url };
  }
  const hint = entry.hint ? `; ${entry.hint}` : "";
  throw new Error(`Cannot find ${file} next to ${fileURLToPath(here)}${hint}`);
}

/** The ESM build of tsx's API (`require.resolve` would give the CJS one, which cannot load its ESM hooks from an eval'd worker). */
function tsxEsmApi(from: string): string {
  const manifest = createRequire(from).resolve("tsx/package.json");
  const exports = JSON.parse(readFileSync(manifest, "utf8")).exports["./esm/api"];
  return new URL(exports.import.default ?? exports.import, pathToFileURL(manifest)).href;
}
