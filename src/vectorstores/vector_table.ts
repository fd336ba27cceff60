/**
 * The store's own copy of every vector, one row per index position, in one growable
 * Float32Array. faiss-node cannot read vectors back out of an index, and the store
 * needs them to rebuild an index after deletes, to train IVF, to search exactly
 * before IVF is trained, and to hand vectors to MMR and duplicate finding.
 */
export class VectorTable {
  private data: Float32Array;
  private rows = 0;

  constructor(
    readonly dimension: number,
    initialCapacity = 1024,
  ) {
    this.data = new Float32Array(dimension * initialCapacity);
  }

  static fromBuffer(dimension: number, bytes: Buffer): VectorTable {
    if (bytes.byteLength % (4 * dimension) !== 0) {
      throw new Error(`vector file has ${bytes.byteLength} bytes, not a whole number of ${dimension}-d float32 rows`);
    }
    const rows = bytes.byteLength / (4 * dimension);
    // A Buffer that is all of its own memory (as a file read whole is) is adopted, not
    // copied: a million 512-d rows are 2 GB, and a copy doubles the peak while a store
    // loads. A small Buffer may be a slice of a shared pool, with any alignment: copied.
    const owned = rows > 0 && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const table = new VectorTable(dimension, owned ? 0 : Math.max(rows, 1));
    if (owned) table.data = new Float32Array(bytes.buffer, 0, rows * dimension);
    else new Uint8Array(table.data.buffer).set(bytes);
    table.rows = rows;
    return table;
  }

  get size(): number {
    return this.rows;
  }

  /** Appends rows laid end to end; returns the position of the first. */
  append(flat: Float32Array): number {
    const added = flat.length / this.dimension;
    const first = this.rows;
    this.reserve(this.rows + added);
    this.data.set(flat, this.rows * this.dimension);
    this.rows += added;
    return first;
  }

  row(position: number): Float32Array {
    if (position < 0 || position >= this.rows) throw new RangeError(`no vector at position ${position}`);
    return this.data.subarray(position * this.dimension, (position + 1) * this.dimension);
  }

  /** Rows at the given positions, laid end to end. */
  gather(positions: number[]): Float32Array {
    const out = new Float32Array(positions.length * this.dimension);
    positions.forEach((p, i) => out.set(this.row(p), i * this.dimension));
    return out;
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
