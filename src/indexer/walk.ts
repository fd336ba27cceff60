/**
 * Finds the image files under some folders: a recursive walk that skips
 * `node_modules`, `.git`, hidden folders and files, the index's own folder and any
 * `--exclude` glob, follows symbolic links but never into a loop, and keeps only
 * files whose suffix sharp reads (see `formats.ts`).
 */
import { readdir, stat } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import picomatch from "picomatch";
import { hasImageSuffix, imageFileSuffixes } from "./formats.js";

/** Folders never entered, whatever the options. */
export const SKIPPED_FOLDERS = ["node_modules", ".git"];

export interface WalkOptions {
  /**
   * Glob patterns (picomatch syntax) of files and folders to leave out. A pattern
   * without a slash matches a name anywhere (`*.gif`, `raw`); one with a slash matches
   * the path relative to the walked folder or to the current directory (`raw/**`,
   * `photos/2019/*.png`). Default: none.
   */
  exclude?: string[];
  /** Absolute folders to leave out, e.g. the index itself. Default: none. */
  skip?: string[];
}

export interface FoundFile {
  /** Absolute path, as reached (symbolic links are not resolved). */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface WalkProblem {
  path: string;
  reason: string;
}

export interface WalkResult {
  /** Image files, sorted by path; each path once. */
  files: FoundFile[];
  /** Folders or files that could not be read. Indexed paths under these folders must be kept, not removed. */
  problems: WalkProblem[];
}

/** Walks `roots` (folders, or single image files) and returns their image files. */
export async function findImageFiles(roots: string[], options: WalkOptions = {}): Promise<WalkResult> {
  const isExcluded = excludeMatcher(options.exclude ?? []);
  const suffixes = await imageFileSuffixes();
  const skip = new Set((options.skip ?? []).map((s) => resolve(s)));
  const files = new Map<string, FoundFile>();
  const problems: WalkProblem[] = [];
  // Every folder entered, by device and inode: a link back to an ancestor (or to a
  // folder seen through another link) is not entered twice.
  const visited = new Set<string>();

  const walkFolder = async (root: string, folder: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      problems.push({ path: folder, reason: errorReason(error) });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.name.startsWith(".") || SKIPPED_FOLDERS.includes(entry.name) || skip.has(path)) continue;
      if (isExcluded(root, path)) continue;
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(path);
          isDirectory = target.isDirectory();
          isFile = target.isFile();
        } catch {
          continue; // a dangling link: nothing to index
        }
      }
      if (isDirectory) await enter(root, path);
      else if (isFile && hasImageSuffix(entry.name, suffixes)) await addFile(path);
    }
  };

  const enter = async (root: string, folder: string): Promise<void> => {
    let identity: string;
    try {
      const s = await stat(folder);
      identity = `${s.dev}:${s.ino}`;
    } catch (error) {
      problems.push({ path: folder, reason: errorReason(error) });
      return;
    }
    if (visited.has(identity)) return;
    visited.add(identity);
    await walkFolder(root, folder);
  };

  const addFile = async (path: string): Promise<void> => {
    if (files.has(path)) return;
    try {
      const s = await stat(path);
      files.set(path, { path, size: s.size, mtimeMs: s.mtimeMs });
    } catch (error) {
      problems.push({ path, reason: errorReason(error) });
    }
  };

  for (const given of roots) {
    const root = resolve(given);
    let s;
    try {
      s = await stat(root);
    } catch (error) {
      problems.push({ path: root, reason: errorReason(error) });
      continue;
    }
    if (s.isDirectory()) await enter(root, root);
    else if (s.isFile() && hasImageSuffix(basename(root), suffixes)) await addFile(root);
    else problems.push({ path: root, reason: "not a folder or an image file" });
  }
  return { files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), problems };
}

/** True when `path` is `folder` or inside it. */
export function isInside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

function excludeMatcher(patterns: string[]): (root: string, path: string) => boolean {
  if (patterns.length === 0) return () => false;
  const byName = patterns.filter((p) => !p.includes("/"));
  const byPath = patterns.filter((p) => p.includes("/"));
  const matchName = byName.length > 0 ? picomatch(byName, { dot: true }) : () => false;
  const matchPath = byPath.length > 0 ? picomatch(byPath, { dot: true }) : () => false;
  const posix = (p: string) => p.split(sep).join("/");
  return (root, path) => {
    if (matchName(basename(path))) return true;
    if (byPath.length === 0) return false;
    const fromRoot = posix(relative(root, path));
    const fromCwd = posix(relative(process.cwd(), path));
    return matchPath(fromRoot) || (!fromCwd.startsWith("../") && !isAbsolute(fromCwd) && matchPath(fromCwd));
  };
}

function errorReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, "")}` : String(e?.message ?? error);
}
