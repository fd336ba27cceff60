/**
 * Durability of `index`: killed with SIGKILL midway, then stopped with Ctrl-C
 * (SIGINT), then run to the end, the index equals a clean run's: same ids, same
 * vectors, same paths, no entry twice.
 */
import { spawn } from "node:child_process";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openIndexVectors } from "../../src/indexer/open_index.js";
import { tempDir } from "../helpers/fixtures.js";
import { CLASSES } from "../helpers/shapes.js";
import { CLI, cliEnv, collect, ensureBuilt, parseJson, runCli, TINY_CLIP, writeShapes } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("lie-cli-kill-"));
  // 48 images, plus 3 byte-identical copies whose paths sort into other batches.
  await writeShapes(
    join(dir, "photos"),
    CLASSES.flatMap((c, i) =>
      [0, 1].map((j) => ({
        file: `${c.colour}/${c.shape}-${j}.png`,
        colour: c.colour,
        shape: c.shape,
        seed: 100 + 2 * i + j,
      })),
    ),
  );
  await mkdir(join(dir, "photos/copies"));
  for (const file of ["red/circle-0.png", "orange/star-1.png", "blue/square-0.png"]) {
    await copyFile(join(dir, "photos", file), join(dir, "photos/copies", file.replace("/", "-")));
  }
  await ensureBuilt();
}, 240_000);

afterAll(async () => {
  await cleanup?.();
});

/** Starts `index`, and sends `signal` once stderr shows at least `after` images done. */
async function interruptAfter(indexDir: string, after: number, signal: NodeJS.Signals, extra: string[] = []) {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "index",
      join(dir, "photos"),
      "--index",
      indexDir,
      "--model",
      TINY_CLIP,
      "--batch-size",
      "4",
      "--progress-interval",
      "0.001",
      ...extra,
    ],
    { env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] },
  );
  let sent = false;
  child.stderr.on("data", (chunk: Buffer) => {
    const done = [...chunk.toString().matchAll(/^progress: (\d+)\//gm)].map((m) => Number(m[1]));
    if (!sent && done.some((d) => d >= after)) {
      sent = true;
      child.kill(signal);
    }
  });
  const result = await collect(child);
  return { ...result, sent };
}

async function snapshot(indexDir: string) {
  const { store } = await openIndexVectors(indexDir);
  const entries = store.entries().sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    ids: entries.map((e) => e.id),
    vectors: entries.map((e) => Array.from(e.vector)),
    paths: entries.map((e) => e.document.metadata.paths as string[]),
  };
}

it("resumes after SIGKILL and Ctrl-C, ending equal to a clean run", async () => {
  const clean = await runCli([
    "index",
    join(dir, "photos"),
    "--index",
    join(dir, "clean"),
    "--model",
    TINY_CLIP,
    "--batch-size",
    "4",
    "--json",
  ]);
  expect(clean.code, clean.stderr).toBe(0);
  expect(parseJson(clean)).toMatchObject({ found: 51, added: 51, failed: 0, entries: 48 });

  const killedDir = join(dir, "killed");
  const killed = await interruptAfter(killedDir, 8, "SIGKILL");
  expect(killed.sent).toBe(true);
  expect(killed.signal).toBe("SIGKILL");
  // Killed midway: some batches saved, not all; the dead run's lock is left behind.
  const partial = await snapshot(killedDir);
  expect(partial.ids.length).toBeGreaterThanOrEqual(7);
  expect(partial.ids.length).toBeLessThan(48);
  expect(JSON.parse(await readFile(join(killedDir, "LOCK"), "utf8")).pid).toBeGreaterThan(0);

  // With --save-interval, batches are saved together: killed before the first save, nothing new is kept.
  const unsaved = await interruptAfter(killedDir, 8, "SIGKILL", ["--save-interval", "3600"]);
  expect(unsaved.sent).toBe(true);
  expect(unsaved.signal).toBe("SIGKILL");
  expect((await snapshot(killedDir)).ids).toEqual(partial.ids);

  // Ctrl-C: stops after the batch in flight and saves all work done, reports, exits 130.
  const stopped = await interruptAfter(killedDir, 8, "SIGINT", ["--json", "--save-interval", "3600"]);
  expect(stopped.sent).toBe(true);
  expect(stopped.code, stopped.stderr).toBe(130);
  expect(stopped.stderr).toContain("Interrupted: run the same command again");
  expect(parseJson(stopped)).toMatchObject({ interrupted: true, removed: 0 });
  expect((await snapshot(killedDir)).ids.length).toBeGreaterThan(partial.ids.length);

  const resumed = await runCli(["index", join(dir, "photos"), "--index", killedDir, "--json"]);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(parseJson(resumed)).toMatchObject({ found: 51, failed: 0, entries: 48, interrupted: false });

  const a = await snapshot(join(dir, "clean"));
  const b = await snapshot(killedDir);
  expect(b.ids).toEqual(a.ids);
  expect(new Set(b.ids).size).toBe(48);
  expect(b.paths).toEqual(a.paths);
  const allPaths = b.paths.flat();
  expect(new Set(allPaths).size).toBe(allPaths.length);
  expect(allPaths.length).toBe(51);
  let worst = 0;
  a.vectors.forEach((v, i) => v.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - b.vectors[i][j])))));
  expect(worst).toBeLessThan(1e-5);
});
