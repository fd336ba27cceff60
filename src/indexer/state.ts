/**
 * The folder indexer's stat cache: for each indexed path, the size and mtime it had
 * and the content hash it had then. It lets a re-run skip unchanged files without
 * reading them. It is only a cache: the store (saved first) is the truth about which
 * path holds which content, and an entry is trusted only when the store agrees. So a
 * state file that is missing, stale (a kill between the store's save and this one)
 * or corrupt costs re-hashing, never a wrong index.
 *
 * Written atomically: a temp file, fsynced, renamed over the old one.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fsyncDirectory, writeDurably } from "../vectorstores/persistence.js";

export const STATE_FILE = "indexer-state.json";
const STATE_FORMAT = "langchain-image-embeddings/indexer-state";

export interface FileState {
  size: number;
  mtimeMs: number;
  /** SHA-256 of the bytes, the store's id for that content. */
  hash: string;
  /** When the hash was taken (ms since the epoch); see `isFresh`. */
  checkedAt: number;
}

export type IndexerState = Map<string, FileState>;

/**
 * A file written within this long before it was hashed may change again in the same
 * mtime tick without its size or mtime showing it; such entries are re-hashed next time.
 */
const RACY_MS = 2_000;

/** Whether a cached entry can stand for a file with this size and mtime without reading it. */
export function isFresh(entry: FileState | undefined, size: number, mtimeMs: number): entry is FileState {
  return entry !== undefined && entry.size === size && entry.mtimeMs === mtimeMs && mtimeMs < entry.checkedAt - RACY_MS;
}

/** Reads the state next to an index; an absent or unreadable file is an empty state. */
export async function readState(indexDir: string): Promise<IndexerState> {
  try {
    const parsed = JSON.parse(await readFile(join(indexDir, STATE_FILE), "utf8")) as {
      format?: string;
      files?: Record<string, FileState>;
    };
    if (parsed.format !== STATE_FORMAT || typeof parsed.files !== "object" || parsed.files === null) return new Map();
    return new Map(Object.entries(parsed.files));
  } catch {
    return new Map();
  }
}

/** Replaces the state file atomically. */
export async function writeState(indexDir: string, state: IndexerState): Promise<void> {
  const target = join(indexDir, STATE_FILE);
  const temp = `${target}.tmp-${randomBytes(4).toString("hex")}`;
  const body = JSON.stringify({ format: STATE_FORMAT, version: 1, files: Object.fromEntries(state) });
  try {
    await writeDurably(temp, body);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDirectory(dirname(target));
}
