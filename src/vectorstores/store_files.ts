/**
 * What an ImageFaissStore's saved version folder holds, and how it is written and read.
 * `persistence.ts` makes the folders atomic and versioned; this file fills them:
 *
 *   manifest.json   how the vectors were made and indexed (store_manifest.ts)
 *   docstore.jsonl  index position → id, and each id's Document, as JSON Lines (docstore_file.ts;
 *                   stores saved before it have docstore.json, still read)
 *   vectors.f32     every row of the vector table, float32 little-endian, dead rows included
 *   faiss.index     the faiss index, only when it is trained and not empty
 *
 * A store with `vectorsOnDisk` saves no vectors.f32: its rows stay in `<store>/vectors/`
 * files, shared by versions, which the manifest lists (`vectorFiles`, see vector_files.ts).
 * Either layout loads either way: into memory, or read in place.
 */
import { closeSync, fstatSync, openSync } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DiskVectorTable, type SavedSegment } from "./disk_vector_table.js";
import { readEntries, readLegacyEntries, writeEntries, type SavedDocument } from "./docstore_file.js";
import type { StoreManifest } from "./store_manifest.js";
import {
  currentVersion,
  readFileInto,
  readWholeFile,
  versionFolders,
  writeVersion,
  type FileWriter,
} from "./persistence.js";
import { removeUnusedVectorFiles, vectorsFolder } from "./vector_files.js";
import { MemoryVectorTable, type VectorTable } from "./vector_table.js";

const MANIFEST_FILE = "manifest.json";
const ENTRIES_FILE = "docstore.jsonl";
const LEGACY_ENTRIES_FILE = "docstore.json";
const VECTORS_FILE = "vectors.f32";
const INDEX_FILE = "faiss.index";

export type { SavedDocument };

/** Everything one saved version holds. */
export interface StoreContents {
  manifest: StoreManifest;
  /** Index position → document id, null for a deleted position. */
  positions: (string | null)[];
  /** Each live id's Document, `documentCount` in all: an iterable, so a save of millions builds no second array. */
  documents: Iterable<SavedDocument>;
  documentCount: number;
  /** The bytes of vectors.f32; undefined when the manifest lists `vectorFiles` instead. */
  vectors?: Buffer;
  /** Files of `<directory>/vectors/` the saving store still uses, besides those the manifest lists. */
  vectorFilesInUse?: string[];
  /** The serialised faiss index; omitted for an empty or untrained one. */
  index?: Buffer;
}

/**
 * Writes `contents` as a new version of `directory`, atomically (see `persistence.ts`).
 * Listed vector files must be durable already (`VectorTable.prepareSave`). Afterwards the
 * vector files no kept version refers to, and the saving store does not use, are removed.
 */
export async function writeStore(directory: string, contents: StoreContents): Promise<void> {
  const files: Record<string, Buffer | string | FileWriter> = {
    [MANIFEST_FILE]: JSON.stringify(contents.manifest, null, 2),
    [ENTRIES_FILE]: (path) => writeEntries(path, contents.positions, contents.documents, contents.documentCount),
  };
  if (contents.vectors) files[VECTORS_FILE] = contents.vectors;
  if (contents.index) files[INDEX_FILE] = contents.index;
  await writeVersion(directory, files);
  const keep = new Set(contents.vectorFilesInUse);
  for (const version of await versionFolders(directory)) {
    let manifest: StoreManifest;
    try {
      manifest = JSON.parse(await readFile(join(version, MANIFEST_FILE), "utf8")) as StoreManifest;
    } catch {
      return; // a version being removed or written by another writer: remove nothing this time
    }
    manifest.vectorFiles?.forEach(({ file }) => keep.add(file));
  }
  await removeUnusedVectorFiles(directory, keep);
}

/** A saved version as read back; `indexFile` is absent when no faiss index was saved. */
export interface SavedStore {
  manifest: StoreManifest;
  positions: (string | null)[];
  documents: SavedDocument[];
  vectors: VectorTable;
  indexFile?: string;
}

/** How `readStore` reads the vectors: into memory (the default), or opened in place (`vectorsOnDisk`). */
export interface ReadStoreOptions {
  vectorsOnDisk?: boolean;
  /** With `vectorsOnDisk`: see `IndexOptions.vectorsDir`. */
  vectorsDir?: string;
}

/**
 * Reads the current version of `directory` and hands it to `open`. `check` sees the
 * manifest (and its file name) first, so a mismatched store is refused before its
 * vectors are read. A writer in another process keeps the current and the previous
 * version; a reader still reading an older one sees its files vanish, and starts again
 * from the new CURRENT. Each version folder is complete, so what is read is never torn.
 */
export async function readStore<T>(
  directory: string,
  check: (manifest: StoreManifest, manifestFile: string) => Promise<void>,
  open: (saved: SavedStore) => Promise<T>,
  options: ReadStoreOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const version = await currentVersion(directory);
    if (!version) {
      throw new Error(
        `No saved ImageFaissStore in ${resolve(directory)} (no CURRENT file). ` +
          `For a LangChain Python index (index.faiss + index.pkl) use ImageFaissStore.loadFromPython.`,
      );
    }
    try {
      return await open(await readVersion(directory, version, check, options));
    } catch (error) {
      const vanished =
        (error as NodeJS.ErrnoException).code === "ENOENT" && (await currentVersion(directory)) !== version;
      if (!vanished || attempt >= 5) throw error;
    }
  }
}

/** The manifest of the current version of `directory`, or undefined when it holds no saved store. */
export async function readCurrentManifest(directory: string): Promise<StoreManifest | undefined> {
  const version = await currentVersion(directory);
  if (!version) return undefined;
  return JSON.parse(await readFile(join(version, MANIFEST_FILE), "utf8")) as StoreManifest;
}

async function readVersion(
  directory: string,
  version: string,
  check: (manifest: StoreManifest, manifestFile: string) => Promise<void>,
  options: ReadStoreOptions,
): Promise<SavedStore> {
  const manifestFile = join(version, MANIFEST_FILE);
  const manifest = JSON.parse(await readFile(manifestFile, "utf8")) as StoreManifest;
  await check(manifest, manifestFile);
  const { positions, documents } = (await exists(join(version, ENTRIES_FILE)))
    ? await readEntries(join(version, ENTRIES_FILE))
    : await readLegacyEntries(join(version, LEGACY_ENTRIES_FILE));
  const { dimension } = manifest;
  const segments = manifest.vectorFiles?.map(({ file, rows }) => ({
    path: join(vectorsFolder(directory), file),
    rows,
  }));
  let vectors: VectorTable;
  if (options.vectorsOnDisk) {
    const files = segments ?? [
      { path: join(version, VECTORS_FILE), rows: wholeRows(join(version, VECTORS_FILE), dimension) },
    ];
    vectors = DiskVectorTable.open(dimension, directory, files, options.vectorsDir);
  } else {
    const bytes = segments ? await readSegments(segments, dimension) : await readWholeFile(join(version, VECTORS_FILE));
    vectors = MemoryVectorTable.fromBuffer(dimension, bytes);
  }
  return { manifest, positions, documents, vectors, indexFile: await savedIndexFile(version) };
}

/** The rows of a version-1 vectors.f32, which holds nothing else; a partial row is refused. */
function wholeRows(path: string, dimension: number): number {
  const fd = openSync(path, "r");
  try {
    const { size } = fstatSync(fd);
    if (size % (4 * dimension) !== 0) {
      throw new Error(`${path} has ${size} bytes, not a whole number of ${dimension}-d float32 rows`);
    }
    return size / (4 * dimension);
  } finally {
    closeSync(fd);
  }
}

/** The listed rows of each file, read into one Buffer (which the table adopts: one copy of the vectors in memory). */
async function readSegments(segments: SavedSegment[], dimension: number): Promise<Buffer> {
  const rowBytes = 4 * dimension;
  const bytes = Buffer.allocUnsafeSlow(segments.reduce((n, s) => n + s.rows * rowBytes, 0));
  let offset = 0;
  for (const { path, rows } of segments) {
    await readFileInto(path, bytes, offset, rows * rowBytes);
    offset += rows * rowBytes;
  }
  return bytes;
}

/**
 * The version's faiss index file, or undefined when none was saved (an empty or
 * untrained index). A version folder removed while we read it is another matter: its
 * ENOENT goes up, for `readStore` to retry.
 */
async function savedIndexFile(version: string): Promise<string | undefined> {
  const file = join(version, INDEX_FILE);
  try {
    await stat(file);
    return file;
  } catch (error) {
    const manifestStillThere = await stat(join(version, MANIFEST_FILE)).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && manifestStillThere) return undefined;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
