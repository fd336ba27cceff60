/**
 * The store's vectors kept in files and read on demand (`vectorsOnDisk: true`), so that
 * RSS is the faiss index's, not 2 KB more per 512-d vector.
 *
 * The rows are a list of segments, each the first `rows` rows of a float32 file. Only the
 * table that created a file ever writes to it, and only past every row a saved version
 * refers to: so saved versions never change under a writer, readers need no lock, and a
 * save of a store whose files already sit in its folder writes no vector bytes (fsync
 * plus the manifest). Rows a killed run appended after its last save lie past the counts
 * the manifest records and are ignored; they are not truncated at load, since a load
 * may be a reader's while the writer still runs. A loaded store appends to a new file
 * of its own; saves merge the newest ones when a store has many.
 *
 * Reads are positional (`readSync` at an offset): `row` is one read, `gather` sorts the
 * positions and reads runs of nearby rows at once, `slices` streams rows in order.
 * `prefetch` reads the files through once, in large pieces and off the event loop, so
 * that re-ranking finds its rows in the page cache instead of paying a disk read each.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  read,
  readSync,
  renameSync,
  writeSync,
} from "node:fs";
import { copyFile, link, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { createScratchFolder, newVectorFileName, removeScratchFolder, vectorsFolder } from "./vector_files.js";
import { fsyncDirectory } from "./persistence.js";
import { SLICE_ROWS, type VectorTable, type VectorsToSave } from "./vector_table.js";

interface Segment {
  /** Absolute path of the file. */
  path: string;
  fd: number;
  /** Rows of the table in this file (its first ones). */
  rows: number;
  /** Created by this table, which alone may append to it. */
  owned: boolean;
  /** Written since the last fsync. */
  dirty: boolean;
}

/** A saved file of rows: its path and how many of its rows the table holds. */
export interface SavedSegment {
  path: string;
  rows: number;
}

/** More segments than this, and a save merges the newest into one file. */
const MAX_SEGMENTS = 8;
/** Segments a merge leaves alone: the oldest, usually the largest. */
const SEGMENTS_KEPT_BY_MERGE = 3;
/** `gather` reads across a gap of up to this many unwanted rows rather than issue another read. */
const GAP_ROWS = 4;
/** The most rows one `gather` read covers: 512 KB of 512-d rows. */
const RUN_ROWS = 256;

/** Bytes per read of `prefetch`: large enough for the disk to stream, small enough not to hold up other reads. */
const PREFETCH_BYTES = 8 << 20;

/** Closes a dropped table's files. */
const closer = new FinalizationRegistry<Set<number>>((fds) => fds.forEach((fd) => closeQuietly(fd)));

export class DiskVectorTable implements VectorTable {
  private segments: Segment[] = [];
  /** Position of each segment's first row. */
  private starts: number[] = [];
  private rows = 0;
  private readonly rowBytes: number;
  private readonly fds = new Set<number>();
  /** Reused by `gather`: one run of rows. */
  private scratch: Float32Array;

  /**
   * @param home the store folder whose `vectors/` this table writes new files to; undefined
   *   until the first save of a new store, whose files go to `scratchParent` meanwhile.
   */
  private constructor(
    readonly dimension: number,
    private home: string | undefined,
    private readonly scratchParent: string | undefined,
    private scratchFolder?: string,
  ) {
    this.rowBytes = 4 * dimension;
    this.scratch = new Float32Array(RUN_ROWS * dimension);
    closer.register(this, this.fds, this);
  }

  /** An empty table for a new store; its first file goes to a temporary folder under `scratchParent` (default: the OS's). */
  static create(dimension: number, scratchParent?: string): DiskVectorTable {
    return new DiskVectorTable(dimension, undefined, scratchParent);
  }

  /** The rows of a saved store in `home`, read in place: the files are opened, never read whole. */
  static open(dimension: number, home: string, files: SavedSegment[], scratchParent?: string): DiskVectorTable {
    const table = new DiskVectorTable(dimension, resolve(home), scratchParent);
    try {
      for (const { path, rows } of files) {
        const fd = openSync(path, constants.O_RDONLY);
        table.adopt({ path: resolve(path), fd, rows, owned: false, dirty: false });
        const held = Math.floor(fstatSync(fd).size / table.rowBytes);
        if (held < rows) {
          throw new Error(
            `${path} holds ${held} vectors of ${dimension} dimensions, but the saved store records ${rows}`,
          );
        }
      }
    } catch (error) {
      table.close();
      throw error;
    }
    return table;
  }

  get size(): number {
    return this.rows;
  }

  append(flat: Float32Array): number {
    const first = this.rows;
    const added = flat.length / this.dimension;
    if (added === 0) return first;
    let last = this.segments.at(-1);
    if (!last?.owned) last = this.newSegment();
    writeFully(last.fd, new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength), last.rows * this.rowBytes);
    last.rows += added;
    last.dirty = true;
    this.rows += added;
    return first;
  }

  appendFilled(count: number, fill: (rows: Float32Array) => void): { first: number; rows: Float32Array } {
    const rows = new Float32Array(count * this.dimension);
    fill(rows);
    return { first: this.append(rows), rows };
  }

  reserveMore(): void {
    // each append writes its own rows to the file: nothing to set aside
  }

  row(position: number): Float32Array {
    this.check(position);
    const out = new Float32Array(this.dimension);
    this.readRows(position, 1, out, 0);
    return out;
  }

  gather(positions: number[]): Float32Array {
    const { dimension } = this;
    const out = new Float32Array(positions.length * dimension);
    positions.forEach((p) => this.check(p));
    const order = Array.from(positions.keys()).sort((a, b) => positions[a] - positions[b]);
    for (let k = 0; k < order.length;) {
      // One read covers a run of wanted rows with small gaps, inside one segment.
      const first = positions[order[k]];
      const segment = this.segmentIndex(first);
      const end = Math.min(this.starts[segment] + this.segments[segment].rows, first + RUN_ROWS);
      let last = first;
      let m = k + 1;
      while (m < order.length && positions[order[m]] <= last + GAP_ROWS + 1 && positions[order[m]] < end) {
        last = positions[order[m++]];
      }
      this.readRows(first, last - first + 1, this.scratch, 0);
      for (; k < m; k++) {
        const offset = (positions[order[k]] - first) * dimension;
        out.set(this.scratch.subarray(offset, offset + dimension), order[k] * dimension);
      }
    }
    return out;
  }

  *slices(start: number, end: number, maxRows = SLICE_ROWS): Iterable<Float32Array> {
    for (let from = start; from < end; from += maxRows) {
      const count = Math.min(maxRows, end - from);
      const out = new Float32Array(count * this.dimension);
      this.readRows(from, count, out, 0);
      yield out;
    }
  }

  /** A new table writing the selected rows to a new file: the old files stay as saved versions refer to them. */
  async select(positions: number[]): Promise<VectorTable> {
    const table = new DiskVectorTable(this.dimension, this.home, this.scratchParent, this.scratchFolder);
    for (let i = 0; i < positions.length; i += SLICE_ROWS) {
      table.append(this.gather(positions.slice(i, i + SLICE_ROWS)));
    }
    return table;
  }

  async prepareSave(directory: string): Promise<VectorsToSave> {
    const target = vectorsFolder(directory);
    mkdirSync(target, { recursive: true });
    for (const segment of this.segments) await this.bringInto(segment, resolve(directory), target);
    if (this.segments.length > MAX_SEGMENTS) await this.mergeNewest(target);
    for (const segment of this.segments) {
      if (!segment.dirty) continue;
      fsyncSync(segment.fd);
      segment.dirty = false;
    }
    await fsyncDirectory(target);
    this.home = resolve(directory);
    if (this.scratchFolder && !this.segments.some((s) => s.path.startsWith(this.scratchFolder + sep))) {
      removeScratchFolder(this.scratchFolder);
      this.scratchFolder = undefined;
    }
    return { files: this.segments.map((s) => ({ file: basename(s.path), rows: s.rows })) };
  }

  filesInUse(directory: string): string[] {
    const target = vectorsFolder(directory);
    return this.segments.filter((s) => dirname(s.path) === target).map((s) => basename(s.path));
  }

  /** Closes the files; a scratch file never saved is removed. The table is unusable after. */
  close(): void {
    for (const segment of this.segments) {
      closeQuietly(segment.fd);
      this.fds.delete(segment.fd);
    }
    closer.unregister(this);
    this.segments = [];
    this.starts = [];
    this.rows = 0;
  }

  /** Releases this table after a rebuild replaced it by `successor`: files only it used, in the scratch folder, go. */
  retire(successor: VectorTable): void {
    const scratch = this.scratchFolder;
    const dropped = this.segments.filter((s) => scratch && s.path.startsWith(scratch + sep));
    const kept = successor instanceof DiskVectorTable ? successor.segments.map((s) => s.path) : [];
    this.close();
    for (const s of dropped) if (!kept.includes(s.path)) void unlink(s.path).catch(() => {});
  }

  async prefetch(): Promise<number> {
    const buffer = Buffer.allocUnsafe(PREFETCH_BYTES);
    let total = 0;
    for (const segment of [...this.segments]) {
      const length = segment.rows * this.rowBytes;
      for (let offset = 0; offset < length;) {
        // A table closed meanwhile (a rebuild replaced it) has nothing left worth reading.
        if (!this.fds.has(segment.fd)) return total;
        const n = await readAt(segment.fd, buffer, Math.min(PREFETCH_BYTES, length - offset), offset);
        if (n === 0) break;
        offset += n;
        total += n;
      }
    }
    return total;
  }

  /**
   * Puts a segment's file into `target` unless it is there: a scratch file is moved, a
   * file of an older version folder of the same store is hard-linked (no bytes copied),
   * anything else is copied (a reflink where the file system can). A file in `target`
   * that another writer removed meanwhile is written anew from the open descriptor.
   */
  private async bringInto(segment: Segment, directory: string, target: string): Promise<void> {
    if (dirname(segment.path) === target) {
      if (fstatSync(segment.fd).nlink > 0) return;
      await this.rewrite(segment, target);
      return;
    }
    const destination = join(target, newVectorFileName());
    if (segment.owned && this.scratchFolder && segment.path.startsWith(this.scratchFolder + sep)) {
      try {
        renameSync(segment.path, destination);
        segment.path = destination;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
      }
    } else if (segment.path.startsWith(directory + sep)) {
      try {
        await link(segment.path, destination);
        segment.path = destination;
        return;
      } catch {
        // another file system, or no hard links: copy below
      }
    }
    await copyFile(segment.path, destination, constants.COPYFILE_FICLONE);
    this.replaceFile(segment, destination);
  }

  /** Writes a segment's rows to a new file in `target`, from its open descriptor, and switches to it. */
  private async rewrite(segment: Segment, target: string): Promise<void> {
    const destination = join(target, newVectorFileName());
    const fd = openSync(destination, "wx");
    try {
      const start = this.starts[this.segments.indexOf(segment)];
      this.copyRows(start, start + segment.rows, fd);
    } finally {
      closeSync(fd);
    }
    this.replaceFile(segment, destination);
  }

  /** Makes `segment` read from (and, as a copy this table made, append to) `path`. */
  private replaceFile(segment: Segment, path: string): void {
    const wasScratch = this.scratchFolder && segment.path.startsWith(this.scratchFolder + sep);
    closeQuietly(segment.fd);
    this.fds.delete(segment.fd);
    if (wasScratch) void unlink(segment.path).catch(() => {});
    segment.fd = openSync(path, "r+");
    this.fds.add(segment.fd);
    segment.path = path;
    segment.owned = true;
    segment.dirty = true;
  }

  /** Merges the segments after the oldest few into one new file in `target`, so reads and open files stay few. */
  private async mergeNewest(target: string): Promise<void> {
    const from = SEGMENTS_KEPT_BY_MERGE;
    const start = this.starts[from];
    const path = join(target, newVectorFileName());
    const fd = openSync(path, "wx+");
    let written: number;
    try {
      written = this.copyRows(start, this.rows, fd);
    } catch (error) {
      closeQuietly(fd);
      throw error;
    }
    for (const s of this.segments.splice(from)) {
      closeQuietly(s.fd);
      this.fds.delete(s.fd);
    }
    this.starts.splice(from);
    this.rows = start;
    this.adopt({ path, fd, rows: written / this.rowBytes, owned: true, dirty: true });
  }

  /** Writes rows `start`..`end - 1` to the start of the file `fd`; returns the bytes written. */
  private copyRows(start: number, end: number, fd: number): number {
    let written = 0;
    for (const rows of this.slices(start, end)) {
      writeFully(fd, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength), written);
      written += rows.byteLength;
    }
    return written;
  }

  /** Opens a new file for appends: in the store folder once saved, in the scratch folder before. */
  private newSegment(): Segment {
    let folder: string;
    if (this.home) {
      folder = vectorsFolder(this.home);
      mkdirSync(folder, { recursive: true });
    } else {
      folder = this.scratchFolder ??= createScratchFolder(this.scratchParent);
    }
    const path = join(folder, newVectorFileName());
    const segment = { path, fd: openSync(path, "wx+"), rows: 0, owned: true, dirty: true };
    this.adopt(segment);
    return segment;
  }

  private adopt(segment: Segment): void {
    this.fds.add(segment.fd);
    this.starts.push(this.rows);
    this.segments.push(segment);
    this.rows += segment.rows;
  }

  /** Reads rows `first`..`first + count - 1` into `out` from row `at` on, across segments. */
  private readRows(first: number, count: number, out: Float32Array, at: number): void {
    let position = first;
    let written = at * this.dimension;
    while (position < first + count) {
      const i = this.segmentIndex(position);
      const inSegment = position - this.starts[i];
      const n = Math.min(first + count - position, this.segments[i].rows - inSegment);
      const bytes = new Uint8Array(out.buffer, out.byteOffset + written * 4, n * this.rowBytes);
      readFully(this.segments[i], bytes, inSegment * this.rowBytes);
      position += n;
      written += n * this.dimension;
    }
  }

  /** The segment holding `position`: the last whose first row is at or before it. */
  private segmentIndex(position: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid] <= position) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  private check(position: number): void {
    if (!(Number.isInteger(position) && position >= 0 && position < this.rows)) {
      throw new RangeError(`no vector at position ${position}`);
    }
  }
}

function readFully(segment: Segment, bytes: Uint8Array, offset: number): void {
  for (let done = 0; done < bytes.length;) {
    const n = readSync(segment.fd, bytes, done, bytes.length - done, offset + done);
    if (n === 0) throw new Error(`${segment.path} ended at byte ${offset + done} while its vectors were read`);
    done += n;
  }
}

/** One asynchronous positional read (on libuv's thread pool), resolving to the bytes read. */
function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((done, fail) =>
    read(fd, buffer, 0, length, position, (error, n) => (error ? fail(error) : done(n))),
  );
}

function writeFully(fd: number, bytes: Uint8Array, offset: number): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
