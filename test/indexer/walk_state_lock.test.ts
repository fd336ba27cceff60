/** The folder indexer's building blocks, without a model: the walk, the stat cache and the lock. */
import { spawnSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IndexLockedError, lockIndex } from "../../src/indexer/lock.js";
import { isFresh, readState, STATE_FILE, writeState } from "../../src/indexer/state.js";
import { findImageFiles } from "../../src/indexer/walk.js";
import { tempDir } from "../helpers/fixtures.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("lie-walk-"));
});
afterEach(async () => {
  await cleanup();
});

async function touch(...files: string[]) {
  for (const file of files) {
    await mkdir(join(dir, file, ".."), { recursive: true });
    await writeFile(join(dir, file), "x");
  }
}

describe("findImageFiles", () => {
  it("finds sharp's suffixes, skips hidden, node_modules, .git and excluded paths, and survives symlink loops", async () => {
    await touch(
      "a.jpg",
      "b.JPEG",
      "c.png",
      "d.webp",
      "e.gif",
      "f.tiff",
      "g.avif",
      "h.svg",
      "notes.txt",
      "raw.v",
      ".hidden.png",
    );
    await touch(
      "sub/deep/i.png",
      ".cache/j.png",
      "node_modules/k.png",
      ".git/l.png",
      "raw/m.png",
      "keep/raw/n.png",
      "skip-me/o.png",
    );
    await symlink(dir, join(dir, "sub/loop")); // a loop back to the root
    await symlink(join(dir, "sub/deep"), join(dir, "deep-link")); // a second way into sub/deep
    await symlink(join(dir, "c.png"), join(dir, "c-link.png")); // a file link: its own path
    await symlink(join(dir, "gone.png"), join(dir, "dangling.png"));

    const { files, problems } = await findImageFiles([dir], { exclude: ["raw/**", "*.gif", "skip-*"] });
    expect(files.map((f) => f.path.slice(dir.length + 1))).toEqual([
      "a.jpg",
      "b.JPEG",
      "c-link.png",
      "c.png",
      "d.webp",
      "deep-link/i.png",
      "f.tiff",
      "g.avif",
      "keep/raw/n.png",
    ]);
    expect(problems).toEqual([]);
    expect(files[0]).toMatchObject({ size: 1, mtimeMs: expect.any(Number) });
  });

  it("reports unreadable roots instead of throwing, and accepts single files", async () => {
    await touch("one.png");
    const { files, problems } = await findImageFiles([join(dir, "missing"), join(dir, "one.png")]);
    expect(files.map((f) => f.path)).toEqual([join(dir, "one.png")]);
    expect(problems).toEqual([{ path: join(dir, "missing"), reason: expect.stringContaining("ENOENT") }]);
  });

  it("leaves out the folders it is told to skip (the index itself)", async () => {
    await touch("a.png", "index/thumbnails/t.webp", "index/x.png");
    const { files } = await findImageFiles([dir], { skip: [join(dir, "index")] });
    expect(files.map((f) => f.path)).toEqual([join(dir, "a.png")]);
  });
});

describe("stat cache", () => {
  it("trusts an entry only for the same size and mtime, hashed well after the last write", () => {
    const entry = { size: 10, mtimeMs: 1_000_000, hash: "h", checkedAt: 1_000_000 + 5_000 };
    expect(isFresh(entry, 10, 1_000_000)).toBe(true);
    expect(isFresh(entry, 11, 1_000_000)).toBe(false);
    expect(isFresh(entry, 10, 1_000_001)).toBe(false);
    expect(isFresh({ ...entry, checkedAt: 1_000_000 + 500 }, 10, 1_000_000)).toBe(false); // racy: re-hash
    expect(isFresh(undefined, 10, 1_000_000)).toBe(false);
  });

  it("round-trips, and reads a missing or corrupt file as empty", async () => {
    expect((await readState(dir)).size).toBe(0);
    const state = new Map([["/p/a.png", { size: 1, mtimeMs: 2, hash: "abc", checkedAt: 3 }]]);
    await writeState(dir, state);
    expect(await readState(dir)).toEqual(state);
    await writeFile(join(dir, STATE_FILE), "{ not json");
    expect((await readState(dir)).size).toBe(0);
  });
});

describe("lockIndex", () => {
  it("lets one writer in at a time and takes over the lock of a process that is gone", async () => {
    const release = await lockIndex(dir);
    await expect(lockIndex(dir)).rejects.toBeInstanceOf(IndexLockedError);
    await expect(lockIndex(dir)).rejects.toThrow(/being written by another process \(pid \d+/);
    await release();
    const again = await lockIndex(dir);
    await again();

    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const { hostname } = await import("node:os");
    await writeFile(join(dir, "LOCK"), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), since: "then" }));
    const takenOver = await lockIndex(dir);
    await takenOver();
  });
});
