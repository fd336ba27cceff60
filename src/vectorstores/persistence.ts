/**
 * Crash-safe saving of a store directory.
 *
 * Each save writes a complete new version into a hidden staging folder, fsyncs it,
 * renames it to `v-<time>-<random>`, and only then switches the `CURRENT` pointer
 * file (itself written to a temp file and renamed). A kill at any moment leaves
 * `CURRENT` naming a complete version: the previous one or the new one. The version
 * before the current one is kept, so a reader that has just read `CURRENT` can still
 * open what it named; older ones are removed.
 */
import { constants as bufferConstants } from "node:buffer";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";

const POINTER = "CURRENT";
const VERSION_PREFIX = "v-";
const STAGING_PREFIX = ".staging-";

/** Writes one file at the path it is given, fsynced before it resolves: for contents too large to hold as one Buffer or string. */
export type FileWriter = (path: string) => Promise<void>;

/** Writes `files` as one new version of `directory`. Returns the version's folder name. */
export async function writeVersion(
  directory: string,
  files: Record<string, Buffer | string | FileWriter>,
): Promise<string> {
  await mkdir(directory, { recursive: true });
  const name = `${VERSION_PREFIX}${Date.now().toString(36).padStart(9, "0")}-${randomBytes(4).toString("hex")}`;
  const staging = join(directory, `${STAGING_PREFIX}${name}`);
  await mkdir(staging);
  for (const [file, content] of Object.entries(files)) {
    if (typeof content === "function") await content(join(staging, file));
    else await writeDurably(join(staging, file), content);
  }
  await fsyncDirectory(staging);
  await rename(staging, join(directory, name));
  await writeDurably(join(directory, `${POINTER}.tmp-${name}`), `${name}\n`);
  await rename(join(directory, `${POINTER}.tmp-${name}`), join(directory, POINTER));
  await fsyncDirectory(directory);
  await removeStaleVersions(directory, name);
  return name;
}

/** The folder of the current version, or undefined when the directory holds no saved store. */
export async function currentVersion(directory: string): Promise<string | undefined> {
  let pointer: string;
  try {
    pointer = (await readFile(join(directory, POINTER), "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (!pointer.startsWith(VERSION_PREFIX) || pointer.includes("/") || pointer.includes("\\")) {
    throw new Error(`${join(directory, POINTER)} is corrupt: it names "${pointer}"`);
  }
  return join(directory, pointer);
}

/** The version folders of `directory` (absolute paths), oldest first: after a save, the current one and the one before. */
export async function versionFolders(directory: string): Promise<string[]> {
  const entries = await readdir(directory);
  return entries
    .filter((e) => e.startsWith(VERSION_PREFIX))
    .sort()
    .map((e) => join(directory, e));
}

/** The most one read call asks for: fs.readFile refuses files over 2 GiB, which a store's vectors pass at 1.05M 512-d rows. */
const READ_CHUNK_BYTES = 1 << 30;

/**
 * A whole file as one Buffer, read in pieces, so files over fs.readFile's 2 GiB limit
 * (vectors.f32 past 1.05M 512-d vectors, or a LangChain Python index.faiss as large) load
 * too. The limit left is Node's largest Buffer.
 */
export async function readWholeFile(path: string, chunkBytes = READ_CHUNK_BYTES): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    const { size } = await handle.stat();
    if (size > bufferConstants.MAX_LENGTH) {
      throw new RangeError(
        `${path} is ${size} bytes, more than the ${bufferConstants.MAX_LENGTH} bytes this Node.js can hold in one Buffer`,
      );
    }
    const buffer = Buffer.allocUnsafe(size);
    await readChunked(handle, path, buffer, 0, size, chunkBytes);
    return buffer;
  } finally {
    await handle.close();
  }
}

/** Reads the first `length` bytes of the file at `path` into `target` from byte `at` on. */
export async function readFileInto(
  path: string,
  target: Buffer,
  at: number,
  length: number,
  chunkBytes = READ_CHUNK_BYTES,
): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await readChunked(handle, path, target.subarray(at, at + length), 0, length, chunkBytes);
  } finally {
    await handle.close();
  }
}

async function readChunked(
  handle: FileHandle,
  path: string,
  buffer: Buffer,
  from: number,
  size: number,
  chunkBytes: number,
): Promise<void> {
  let offset = from;
  while (offset < size) {
    const { bytesRead } = await handle.read(buffer, offset, Math.min(chunkBytes, size - offset), offset);
    if (bytesRead === 0) throw new Error(`${path} ended at byte ${offset} of ${size} while being read`);
    offset += bytesRead;
  }
}

/** Writes a file and fsyncs it before returning. */
export async function writeDurably(path: string, content: Buffer | string): Promise<void> {
  const handle = await open(path, constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY, 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory, so a rename inside it survives a power loss. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes leftovers of killed saves and every version but the newest two. */
async function removeStaleVersions(directory: string, current: string): Promise<void> {
  const entries = await readdir(directory);
  const versions = entries.filter((e) => e.startsWith(VERSION_PREFIX) && e !== current).sort();
  const stale = [
    ...versions.slice(0, -1),
    ...entries.filter((e) => e.startsWith(STAGING_PREFIX) || (e.startsWith(`${POINTER}.tmp-`) && !e.endsWith(current))),
  ];
  await Promise.all(stale.map((e) => rm(join(directory, e), { recursive: true, force: true })));
}
