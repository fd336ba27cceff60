/**
 * `index` progress on a terminal: run under a pseudo-terminal (util-linux `script`),
 * it draws a bar with count, rate and ETA, redrawn in place. (Without a terminal it
 * prints plain lines: see index_search.int.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { tempDir } from "../helpers/fixtures.js";
import { runProcess } from "../helpers/run_process.js";
import { CLASSES } from "../helpers/shapes.js";
import { CLI, cliEnv, ensureBuilt, TINY_CLIP, writeShapes } from "./helpers.js";

const hasScript = spawnSync("script", ["--version"]).status === 0;
if (!hasScript)
  console.warn("progress.int.test.ts: `script` (util-linux) is not installed, so no pseudo-terminal can be made");

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("lie-cli-tty-"));
  await writeShapes(
    join(dir, "photos"),
    CLASSES.slice(0, 12).map((c, i) => ({ file: `${i}.png`, colour: c.colour, shape: c.shape, seed: 300 + i })),
  );
  await ensureBuilt();
}, 240_000);

afterAll(async () => {
  await cleanup?.();
});

it.skipIf(!hasScript)("draws a progress bar with count, rate and ETA on a terminal", async () => {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const command = [
    process.execPath,
    CLI,
    "index",
    join(dir, "photos"),
    "--index",
    join(dir, "index"),
    "--model",
    TINY_CLIP,
    "--batch-size",
    "2",
  ]
    .map(quote)
    .join(" ");
  const run = await runProcess("script", ["-qec", `stty cols 120 rows 40; ${command}`, "/dev/null"], {
    env: cliEnv(),
  });
  expect(run.status, run.stdout + run.stderr).toBe(0);
  const out = run.stdout;
  // Redrawn in place: cursor to column 1 and erase-line escapes, no plain progress lines.
  expect(out).toContain("\x1b[1G");
  expect(out).not.toMatch(/^progress: /m);
  expect(out).toMatch(/█+░* \d+% \| \d+\/12 images \| [\d.]+ images\/s \| ETA \S+/);
  expect(out).toMatch(/█{30} 100% \| 12\/12 images/);
  expect(out).toContain("Done in");
});
