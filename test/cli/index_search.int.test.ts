/**
 * The built CLI, end to end, on a temp folder of generated shape images and the
 * project's tiny-clip model: index, search (text, image, arithmetic), re-index after
 * touch / modify / delete / add with exact counts, duplicates, --json and --help.
 */
import { copyFile, mkdir, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/fixtures.js";
import sharp from "sharp";
import { renderShape } from "../helpers/shapes.js";
import { ensureBuilt, parseJson, runCli, TINY_CLIP, writeShapes, type ShapeFile } from "./helpers.js";

const GALLERY: ShapeFile[] = [
  { file: "red-circle-1.png", colour: "red", shape: "circle", seed: 11 },
  { file: "holiday/red-circle-2.png", colour: "red", shape: "circle", seed: 12 },
  { file: "blue-circle-1.png", colour: "blue", shape: "circle", seed: 13 },
  { file: "holiday/blue-circle-2.png", colour: "blue", shape: "circle", seed: 14 },
  { file: "blue-square-1.png", colour: "blue", shape: "square", seed: 15 },
  { file: "holiday/blue-square-2.png", colour: "blue", shape: "square", seed: 16 },
  { file: "green-triangle-1.png", colour: "green", shape: "triangle", seed: 17 },
  { file: "yellow-star-1.png", colour: "yellow", shape: "star", seed: 18 },
  { file: "yellow-star-2.png", colour: "yellow", shape: "star", seed: 19 },
];

interface Summary {
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  failed: number;
  failures: { path: string; reason: string }[];
  found: number;
  entries: number;
  interrupted: boolean;
}
interface Hit {
  rank: number;
  score: number;
  id: string;
  path: string;
  paths: string[];
}

let dir: string;
let photos: string;
let index: string;
let cleanup: () => Promise<void>;
const at = (file: string) => join(photos, file);
const files = (hits: Hit[]) => hits.map((h) => h.path.slice(photos.length + 1));

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("lie-cli-"));
  photos = join(dir, "photos");
  index = join(dir, "index");
  await writeShapes(photos, GALLERY);
  // Same bytes at a second path: stored once, knowing both paths.
  await copyFile(at("red-circle-1.png"), at("holiday/copy-of-red-circle.png"));
  // A near-duplicate: the same picture, smaller and re-encoded as JPEG.
  await sharp(at("holiday/blue-square-2.png"))
    .resize(120, 100)
    .jpeg({ quality: 80 })
    .toFile(at("holiday/blue-square-2-small.jpg"));
  // Not an image: reported, never stops the run.
  await writeFile(at("broken.png"), "this is not a PNG");
  await writeFile(at("notes.txt"), "not an image suffix: never read");
  // Skipped: hidden folders, node_modules, --exclude globs, and a symlink loop.
  const extra = await renderShape({ colour: "orange", shape: "square", seed: 99 });
  for (const skipped of [".hidden/a.png", "node_modules/pkg/a.png", "raw/a.png", "holiday/b.gif"]) {
    await mkdir(join(photos, skipped, ".."), { recursive: true });
    await writeFile(join(photos, skipped), extra);
  }
  await symlink(photos, join(photos, "holiday/loop"));
  await ensureBuilt();
}, 240_000);

afterAll(async () => {
  await cleanup?.();
});

describe("image-embeddings index + search", () => {
  it("indexes a folder: every image once, identical files as one entry, failures named", async () => {
    const run = await runCli([
      "index",
      photos,
      "--index",
      index,
      "--model",
      TINY_CLIP,
      "--batch-size",
      "4",
      "--exclude",
      "raw/**",
      "--exclude",
      "*.gif",
      "--json",
      "--progress-interval",
      "0.001",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const summary = parseJson<Summary>(run);
    expect(summary).toMatchObject({
      found: 12,
      added: 11,
      updated: 0,
      removed: 0,
      unchanged: 0,
      failed: 1,
      entries: 10,
      interrupted: false,
    });
    expect(summary.failures).toEqual([
      { path: at("broken.png"), reason: expect.stringMatching(/decode|format/), code: "UNSUPPORTED_FORMAT" },
    ]);
    // Not a TTY: plain progress lines on stderr, no escape codes.
    expect(run.stderr).toMatch(/^progress: 4\/12 images \(33%\) \| [\d.]+ images\/s \| ETA \S+$/m);
    expect(run.stderr).toMatch(/^progress: 12\/12 images \(100%\)/m);
    expect(run.stderr).not.toContain("\x1b[");
  });

  it("ranks the matching images first for a text query, and prints rank, score and path", async () => {
    const json = await runCli(["search", "a red circle", "--index", index, "-k", "3", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const hits = parseJson<{ results: Hit[] }>(json).results;
    expect(files(hits).slice(0, 2).sort()).toEqual(["holiday/copy-of-red-circle.png", "holiday/red-circle-2.png"]);
    const copies = hits.find((h) => h.paths.length > 1)!;
    expect(copies.paths).toEqual([at("holiday/copy-of-red-circle.png"), at("red-circle-1.png")]);
    expect(hits.map((h) => h.rank)).toEqual([1, 2, 3]);
    expect(hits[0].score).toBeGreaterThanOrEqual(hits[1].score);

    const table = await runCli(["search", "a", "yellow", "star", "--index", index, "-k", "2"], { cwd: photos });
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^rank\s+score\s+path$/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/))).toEqual([
      ["1", expect.stringMatching(/^-?\d\.\d{3}$/), expect.stringMatching(/^yellow-star-[12]\.png$/)],
      ["2", expect.stringMatching(/^-?\d\.\d{3}$/), expect.stringMatching(/^yellow-star-[12]\.png$/)],
    ]);
  });

  it("searches by image (leaving the query image out) and by query arithmetic", async () => {
    const byImage = parseJson<{ results: Hit[] }>(
      await runCli(["search", "--image", at("yellow-star-2.png"), "--index", index, "-k", "2", "--json"]),
    );
    expect(files(byImage.results)[0]).toBe("yellow-star-1.png");
    expect(files(byImage.results)).not.toContain("yellow-star-2.png");

    // An image term plus text, in the string syntax; --image plus text is the same query.
    const mixed = parseJson<{ results: Hit[] }>(
      await runCli([
        "search",
        `image:${at("yellow-star-2.png")} + a yellow star`,
        "--index",
        index,
        "-k",
        "1",
        "--json",
      ]),
    );
    expect(files(mixed.results)).toEqual(["yellow-star-1.png"]);
    const imageFlag = parseJson<{ results: Hit[] }>(
      await runCli([
        "search",
        "--image",
        at("yellow-star-2.png"),
        "a yellow star",
        "--index",
        index,
        "-k",
        "1",
        "--json",
      ]),
    );
    expect(imageFlag.results).toEqual(mixed.results);
    // Text arithmetic: a red circle, minus red, plus green: the only green image.
    const arithmetic = parseJson<{ results: Hit[] }>(
      await runCli(["search", "a red circle - red + green", "--index", index, "-k", "1", "--json"]),
    );
    expect(files(arithmetic.results)).toEqual(["green-triangle-1.png"]);

    // --threshold between the 2nd and 3rd scores keeps exactly the first two.
    const top = parseJson<{ results: Hit[] }>(
      await runCli(["search", "a blue square", "--index", index, "-k", "3", "--json"]),
    ).results;
    const cut = (top[1].score + top[2].score) / 2;
    const kept = parseJson<{ results: Hit[] }>(
      await runCli(["search", "a blue square", "--index", index, "--threshold", String(cut), "--json"]),
    );
    expect(kept.results.map((h) => h.id)).toEqual(top.slice(0, 2).map((h) => h.id));
  });

  it("lists identical files and near-duplicates as groups", async () => {
    const run = await runCli(["duplicates", "--index", index, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    type Group = { files: number; images: { paths: string[] }[]; maxSimilarity: number; minSimilarity: number };
    const { threshold, groups } = parseJson<{ threshold: number; groups: Group[] }>(run);
    expect(threshold).toBe(0.95);
    const groupOf = (file: string) => groups.find((g) => g.images.some((i) => i.paths.includes(at(file))))!;
    const copies = groupOf("red-circle-1.png");
    expect(copies.images.find((i) => i.paths.includes(at("red-circle-1.png")))!.paths).toEqual([
      at("holiday/copy-of-red-circle.png"),
      at("red-circle-1.png"),
    ]);
    expect(copies.maxSimilarity).toBe(1);
    const resized = groupOf("holiday/blue-square-2.png");
    expect(resized.images.flatMap((i) => i.paths)).toContain(at("holiday/blue-square-2-small.jpg"));
    expect(resized.minSimilarity).toBeGreaterThanOrEqual(0.95);

    // At similarity 1, only byte-identical files are left (a small model may put the resized copy within 1e-5).
    const text = await runCli(["duplicates", "--index", index, "--threshold", "1"], { cwd: photos });
    expect(text.stdout).toBe(
      "Group 1: 2 files, similarity 1.000\n  holiday/copy-of-red-circle.png\n  = red-circle-1.png\n" +
        '1 group, 2 files ("=" marks a byte-identical copy of the line above).\n',
    );
  });

  it("re-indexes incrementally: touched, modified, deleted and new files give exact counts", async () => {
    const future = new Date(Date.now() + 60_000);
    await utimes(at("blue-square-1.png"), future, future); // touched: same bytes
    await writeFile(
      at("green-triangle-1.png"),
      await renderShape({ colour: "purple", shape: "star", seed: 21, width: 240, height: 200 }),
    ); // modified
    await unlink(at("yellow-star-2.png")); // deleted
    await unlink(at("holiday/copy-of-red-circle.png")); // deleted copy: its content stays, at its other path
    await writeFile(
      at("orange-circle.png"),
      await renderShape({ colour: "orange", shape: "circle", seed: 22, width: 240, height: 200 }),
    ); // added
    await rm(at("broken.png"));

    const run = await runCli([
      "index",
      photos,
      "--index",
      index,
      "--exclude",
      "raw/**",
      "--exclude",
      "*.gif",
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(parseJson<Summary>(run)).toMatchObject({
      added: 1,
      updated: 1,
      removed: 2,
      unchanged: 8,
      failed: 0,
      failures: [],
      found: 10,
      entries: 10,
    });

    // Without the excludes, the two excluded images join the index (same bytes: one entry, two paths).
    const again = parseJson<Summary>(await runCli(["index", photos, "--index", index, "--json"]));
    expect(again).toMatchObject({ added: 2, updated: 0, removed: 0, unchanged: 10, failed: 0, entries: 11 });

    const search = parseJson<{ results: Hit[] }>(
      await runCli(["search", "a purple star", "--index", index, "-k", "1", "--json"]),
    );
    expect(files(search.results)).toEqual(["green-triangle-1.png"]);
  });

  it("explains errors and has --help on every command", async () => {
    const missing = await runCli(["search", "x", "--index", join(dir, "nowhere")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No image index in .*nowhere.*image-embeddings index/);
    const badK = await runCli(["search", "x", "-k", "0", "--index", index]);
    expect(badK.code).toBe(1);
    expect(badK.stderr).toContain("Expected a positive integer for -k");

    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("./.image-index");
    for (const command of ["index", "search", "duplicates", "serve"]) {
      const help = await runCli([command, "--help"]);
      expect(help.code, command).toBe(0);
      expect(help.stdout).toContain(`Usage: image-embeddings ${command}`);
      expect(help.stdout).toContain("--index <dir>");
    }
  });
});
