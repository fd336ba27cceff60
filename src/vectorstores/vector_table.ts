/**
 * The store's own copy of every vector, one row per index position. faiss-node cannot
 * read vectors back out of an index, and the store needs them to rebuild an index after
 * deletes, to train IVF, to search exactly before IVF is trained, and to hand vectors to
 * MMR, re-ranking and duplicate finding.
 *
 * Two kinds: `MemoryVectorTable` (here, the default) holds them in one growable
 * Float32Array; `DiskVectorTable` (disk_vector_table.ts, `vectorsOnDisk: true`) keeps
 * them in files and reads rows on demand.
 */

/** What a table hands to a save: the bytes of vectors.f32, or the files that already hold its rows. */
export type VectorsToSave = { bytes: Buffer } | { files: VectorFileRef[] };

/** Rows 0..rows-1 of a file in the store folder's `vectors/` folder (see vector_files.ts). */
export interface VectorFileRef {
  /** The file's name inside `<store>/vectors/`. */
  file: string;
  /** How many of its rows belong to the store; any rows after them are ignored. */
  rows: number;
}

export interface VectorTable {
  readonly dimension: number;
  /** Rows stored. */
  readonly size: number;
  /** Appends rows laid end to end; returns the position of the first. */
  append(flat: Float32Array): number;
  /**
   * Appends `count` rows that `fill` writes into the array it is handed (`count × dimension`
   * floats, in the table's own memory where it can), sparing a bulk add a temporary copy.
   * Returns the first new position and the rows, valid until the table next changes.
   * When `fill` throws, nothing is appended.
   */
  appendFilled(count: number, fill: (rows: Float32Array) => void): { first: number; rows: Float32Array };
  /** Makes room for `count` more rows, so that appending them in pieces allocates once. */
  reserveMore(count: number): void;
  /** The row at `position`. Read it, never write it: it may be a view of the table. */
  row(position: number): Float32Array;
  /** Rows at the given positions (any order, repeats allowed), laid end to end. */
  gather(positions: number[]): Float32Array;
  /** Rows `start`..`end - 1` in order, in pieces of at most `maxRows` rows laid end to end. */
  slices(start: number, end: number, maxRows?: number): Iterable<Float32Array>;
  /** A new table of the same kind holding the rows at `positions`, in that order (a rebuild after deletes). */
  select(positions: number[]): Promise<VectorTable>;
  /** Makes the rows durable for a save into `directory` and says how the save refers to them. */
  prepareSave(directory: string): Promise<VectorsToSave>;
  /** Files of `<directory>/vectors/` this table still uses: a save must not remove them. */
  filesInUse(directory: string): string[];
  /** Called once a rebuild has replaced this table by `successor`: frees what only this table held. */
  retire(successor: VectorTable): void;
  /** Reads the rows once, in order, so that later reads find them in the OS page cache; returns the bytes read. */
  prefetch(): Promise<number>;
}

/** Rows per piece when tables are streamed (rebuilds, restores, exact scans): 16 MB of 512-d rows. */
export const SLICE_ROWS = 8_192;

/** All of the table in one growable Float32Array: today's default. */
export class MemoryVectorTable implements VectorTable {
  private data: Float32Array;
  private rows = 0;

  constructor(
    readonly dimension: number,
    initialCapacity = 1024,
  ) {
    this.data = new Float32Array(dimension * initialCapacity);
  }

  static fromBuffer(dimension: number, bytes: Buffer): MemoryVectorTable {
    if (bytes.byteLength % (4 * dimension) !== 0) {
      throw new Error(`vector file has ${bytes.byteLength} bytes, not a whole number of ${dimension}-d float32 rows`);
    }
    const rows = bytes.byteLength / (4 * dimension);
    // A Buffer that is all of its own memory (as a file read whole is) is adopted, not
    // copied: a million 512-d rows are 2 GB, and a copy doubles the peak while a store
    // loads. A small Buffer may be a slice of a shared pool, with any alignment: copied.
    const owned = rows > 0 && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const table = new MemoryVectorTable(dimension, owned ? 0 : Math.max(rows, 1));
    if (owned) table.data = new Float32Array(bytes.buffer, 0, rows * dimension);
    else new Uint8Array(table.data.buffer).set(bytes);
    table.rows = rows;
    return table;
  }

  get size(): number {
    return this.rows;
  }

  append(flat: Float32Array): number {
    const added = flat.length / this.dimension;
    const first = this.rows;
    this.reserve(this.rows + added);
    this.data.set(flat, this.rows * this.dimension);
    this.rows += added;
    return first;
  }

  appendFilled(count: number, fill: (rows: Float32Array) => void): { first: number; rows: Float32Array } {
    const first = this.rows;
    this.reserve(this.rows + count);
    // Written in place: 100k 512-d rows are 200 MB, and faulting in a temporary of that size
    // cost as much CPU time here as the rest of the add (about 170 ms per 200 MB in the kernel).
    const rows = this.data.subarray(first * this.dimension, (first + count) * this.dimension);
    fill(rows);
    this.rows += count;
    return { first, rows };
  }

  reserveMore(count: number): void {
    this.reserve(this.rows + count);
  }

  row(position: number): Float32Array {
    if (!(position >= 0 && position < this.rows)) throw new RangeError(`no vector at position ${position}`);
    return this.data.subarray(position * this.dimension, (position + 1) * this.dimension);
  }

  gather(positions: number[]): Float32Array {
    const out = new Float32Array(positions.length * this.dimension);
    positions.forEach((p, i) => out.set(this.row(p), i * this.dimension));
    return out;
  }

  *slices(start: number, end: number, maxRows = SLICE_ROWS): Iterable<Float32Array> {
    for (let from = start; from < end; from += maxRows) {
      yield this.data.subarray(from * this.dimension, Math.min(end, from + maxRows) * this.dimension);
    }
  }

  async select(positions: number[]): Promise<VectorTable> {
    const table = new MemoryVectorTable(this.dimension, Math.max(positions.length, 1));
    positions.forEach((p, i) => table.data.set(this.row(p), i * this.dimension));
    table.rows = positions.length;
    return table;
  }

  async prepareSave(): Promise<VectorsToSave> {
    return { bytes: this.toBuffer() };
  }

  filesInUse(): string[] {
    return [];
  }

  retire(): void {
    // memory goes with the last reference
  }

  async prefetch(): Promise<number> {
    return 0; // already in memory
  }

  /** The bytes to persist: exactly `size` rows. */
  toBuffer(): Buffer {
    return Buffer.from(this.data.buffer, this.data.byteOffset, this.rows * this.dimension * 4);
  }

  private reserve(rows: number): void {
    if (rows * this.dimension <= this.data.length) return;
    const grown = new Float32Array(Math.max(rows, 2 * (this.data.length / this.dimension)) * this.dimension);
    grown.set(this.data.subarray(0, this.rows * this.dimension));
    this.data = grown;
  }
}
