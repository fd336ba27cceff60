/**
 * Durability of `index` under SIGKILL at 20 moments from a seeded schedule (issue 6):
 * after every kill the index folder loads (or holds nothing yet) and is consistent; the
 * runs resume one after another; the end result equals a clean run's: the same ids,
 * vectors and paths, no entry twice.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openIndexVectors } from "../../src/indexer/open_index.js";
import { seededRandom } from "../../src/heads/random.js";
import { CLASSES } from "../helpers/shapes.js";
import { tempDir } from "../helpers/fixtures.js";
import { CLI, TINY_CLIP, cliEnv, collect, ensureBuilt, parseJson, runCli, writeShapes } from "../cli/helpers.js";

const KILLS = 20;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("lie-durable-"));
  await writeShapes(
    join(dir, "photos"),
    CLASSES.flatMap((c, i) =>
      [0, 1, 2].map((k) => ({
        file: `${c.colour}/${c.shape}-${k}.png`,
        colour: c.colour,
        shape: c.shape,
        seed: 900 + 3 * i + k,
      })),
    ),
  );
  await ensureBuilt();
}, 240_000);
afterAll(async () => {
  await cleanup?.();
});

async function snapshot(indexDir: string) {
  const { store, manifest } = await openIndexVectors(indexDir);
  const entries = store.entries().sort((a, b) => (a.id < b.id ? -1 : 1));
  expect(entries.length).toBe(manifest.count);
  return {
    ids: entries.map((e) => e.id),
    vectors: entries.map((e) => Array.from(e.vector)),
    paths: entries.map((e) => (e.document.metadata.paths as string[]).slice().sort()),
  };
}

it(`survives SIGKILL at ${KILLS} seeded random moments and ends equal to a clean run`, async () => {
  const args = (indexDir: string) => [
    "index",
    join(dir, "photos"),
    "--index",
    indexDir,
    "--model",
    TINY_CLIP,
    "--batch-size",
    "4",
  ];
  const started = performance.now();
  const clean = await runCli([...args(join(dir, "clean")), "--json"]);
  const cleanMs = performance.now() - started;
  expect(clean.code, clean.stderr).toBe(0);
  expect(parseJson(clean)).toMatchObject({ added: 72, failed: 0, entries: 72 });
  // A run with nothing left to do: start-up, walking and hashing only.
  const again = performance.now();
  const upToDate = await runCli([...args(join(dir, "clean")), "--json"]);
  const upToDateMs = performance.now() - again;
  expect(parseJson(upToDate)).toMatchObject({ added: 0, failed: 0, entries: 72 });

  const killedDir = join(dir, "killed");
  const random = seededRandom(2026);
  const counts: number[] = [];
  let killed = 0;
  for (let k = 0; k < KILLS; k++) {
    const child = spawn(process.execPath, [CLI, ...args(killedDir)], {
      env: cliEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const done = collect(child);
    // Anywhere from start-up (model loading) to the expected end of this run: a resumed run
    // has only the images not saved yet left to embed. (Drawing from a whole clean run's
    // length let most runs after the first complete one finish before their kill.)
    const left = (72 - (counts.at(-1) ?? 0)) / 72;
    const delay = 100 + random() * (upToDateMs + Math.max(0, cleanMs - upToDateMs) * left);
    const timer = setTimeout(() => child.kill("SIGKILL"), delay);
    const result = await done;
    clearTimeout(timer);
    if (result.code !== null)
      expect(result.code, result.stderr).toBe(0); // finished before the kill
    else killed++;
    try {
      counts.push((await snapshot(killedDir)).ids.length);
    } catch (error) {
      expect(String(error)).toMatch(/No image index in/); // killed before the first save
      counts.push(0);
    }
  }
  // Work is kept across kills: the entry count never goes down; and the schedule really
  // interrupted runs midway. At least one kill must land between saves: once one does,
  // the next run has little left to do, so on a busy machine (the whole suite running)
  // most later kills land before its first save or after its last, and more is luck.
  expect(counts).toEqual([...counts].sort((a, b) => a - b));
  expect(killed).toBeGreaterThanOrEqual(10);
  expect(counts.filter((c) => c > 0 && c < 72).length).toBeGreaterThanOrEqual(1);

  const resumed = await runCli([...args(killedDir), "--json"]);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(parseJson(resumed)).toMatchObject({ failed: 0, entries: 72 });
  const [a, b] = [await snapshot(join(dir, "clean")), await snapshot(killedDir)];
  expect(b.ids).toEqual(a.ids);
  expect(new Set(b.ids).size).toBe(b.ids.length);
  expect(b.paths).toEqual(a.paths);
  b.vectors.forEach((v, i) => v.forEach((x, j) => expect(x).toBeCloseTo(a.vectors[i][j], 6)));
}, 600_000);
