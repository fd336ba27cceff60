/**
 * Where a store with `vectorsOnDisk` keeps its vector files: `<store>/vectors/`, one
 * file per segment of rows, shared by the saved versions that refer to them (each
 * version's manifest lists the files and how many rows of each it holds). A new store
 * that was never saved keeps its files in a temporary folder, removed when the process exits.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const VECTORS_FOLDER = "vectors";
const SCRATCH_PREFIX = "image-faiss-vectors-";

/** `<directory>/vectors`, absolute. */
export function vectorsFolder(directory: string): string {
  return join(resolve(directory), VECTORS_FOLDER);
}

/** A fresh, unique file name for a segment: time first, so a listing sorts by age. */
export function newVectorFileName(): string {
  return `${Date.now().toString(36).padStart(9, "0")}-${randomBytes(4).toString("hex")}.f32`;
}

/** The folder a store that was never saved writes its vector files to. */
export function createScratchFolder(parent: string | undefined): string {
  const base = resolve(parent ?? tmpdir());
  mkdirSync(base, { recursive: true });
  const folder = mkdtempSync(join(base, SCRATCH_PREFIX));
  if (scratchFolders.size === 0) process.once("exit", removeScratchFolders);
  scratchFolders.add(folder);
  return folder;
}

/** Removes a scratch folder once nothing in it is needed (its files were moved into a store). */
export function removeScratchFolder(folder: string): void {
  scratchFolders.delete(folder);
  rmSync(folder, { recursive: true, force: true });
}

const scratchFolders = new Set<string>();

function removeScratchFolders(): void {
  for (const folder of scratchFolders) rmSync(folder, { recursive: true, force: true });
}

/**
 * Removes the files of `<directory>/vectors/` that no kept version refers to and this
 * process does not use: those of older versions, of a rebuild's predecessor, or written
 * by a run killed before it saved. Best effort: a file that cannot be removed now is
 * removed by a later save.
 */
export async function removeUnusedVectorFiles(directory: string, keep: Set<string>): Promise<void> {
  let names: string[];
  try {
    names = await readdir(vectorsFolder(directory));
  } catch {
    return;
  }
  const unused = names.filter((name) => !keep.has(name));
  await Promise.all(unused.map((name) => rm(join(vectorsFolder(directory), name), { force: true }).catch(() => {})));
}
