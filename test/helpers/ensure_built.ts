/**
 * Keeps dist/ as fresh as the sources for tests that run the built package (the CLI, the
 * packed tarball). A lock folder keeps two test files from building at once.
 */
import { runProcess } from "./run_process.js";
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./fixtures.js";

/** The built `image-embeddings` command; its age stands for the whole build's. */
export const BUILT_CLI = join(ROOT, "dist/cli.js");

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Builds dist/ (npm run build) unless dist/cli.js is newer than src/, package.json and tsup.config.ts. */
export async function ensureBuilt(): Promise<void> {
  const lock = join(ROOT, "node_modules/.cli-test-build-lock");
  const fresh = () =>
    existsSync(BUILT_CLI) &&
    statSync(BUILT_CLI).mtimeMs >=
      Math.max(
        newestMtime(join(ROOT, "src")),
        newestMtime(join(ROOT, "package.json")),
        newestMtime(join(ROOT, "tsup.config.ts")),
      );
  for (let waited = 0; !fresh(); waited += 500) {
    try {
      mkdirSync(lock);
    } catch {
      if (waited > 180_000) throw new Error(`Timed out waiting for another build (remove ${lock} if none is running)`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      if (fresh()) break;
      const build = await runProcess("npm", ["run", "build"], { timeoutMs: 300_000 });
      if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
    } finally {
      rmdirSync(lock);
    }
  }
}
