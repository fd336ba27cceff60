/**
 * Runs the built `image-embeddings` command (dist/cli.js) as a child process, the way
 * users run it. `ensureBuilt` rebuilds first when any source is newer than the build;
 * a lock folder keeps two test files from building at once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BUILT_CLI } from "../helpers/ensure_built.js";
import { ROOT, TINY_CLIP } from "../helpers/fixtures.js";
import { renderShape, type Colour, type Shape } from "../helpers/shapes.js";

export const CLI = BUILT_CLI;
export { TINY_CLIP };
export { ensureBuilt } from "../helpers/ensure_built.js";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for the child: no TTY colours, offline, and the test's model cache untouched. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  delete env.IMAGE_EMBEDDINGS_INDEX;
  return env;
}

/** Runs the CLI to completion. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: cliEnv(options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    collect(child).then(resolve, reject);
  });
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Parses --json output, with the whole output in the error when it is not JSON. */
export function parseJson<T = unknown>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(
      `Expected JSON on stdout (exit ${result.code}).\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
}

export interface ShapeFile {
  /** Path relative to the gallery folder. */
  file: string;
  colour: Colour;
  shape: Shape;
  seed: number;
}

/** Renders shape images into `dir` (sub-folders created as needed). */
export async function writeShapes(dir: string, files: ShapeFile[]): Promise<void> {
  for (const f of files) {
    const path = join(dir, f.file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(
      path,
      await renderShape({ colour: f.colour, shape: f.shape, seed: f.seed, width: 240, height: 200 }),
    );
  }
}
