/** MemoryVectorTable.fromBuffer: what a store's load builds its vectors from, adopting a file's Buffer or copying a pooled one. */
import { describe, expect, it } from "vitest";
import { MemoryVectorTable } from "../../src/vectorstores/vector_table.js";

const rowsOf = (table: MemoryVectorTable) => Array.from({ length: table.size }, (_, p) => Array.from(table.row(p)));

describe("MemoryVectorTable.fromBuffer", () => {
  it("adopts a Buffer that owns its memory, then grows past it on append", () => {
    const bytes = Buffer.alloc(3 * 2 * 4);
    new Float32Array(bytes.buffer).set([1, 2, 3, 4, 5, 6]);
    const table = MemoryVectorTable.fromBuffer(2, bytes);
    expect(rowsOf(table)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(table.row(1).buffer).toBe(bytes.buffer); // no copy of what may be gigabytes
    expect(table.append(Float32Array.from([7, 8, 9, 10]))).toBe(3);
    expect(rowsOf(table)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
      [9, 10],
    ]);
    expect(table.toBuffer().equals(Buffer.from(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).buffer))).toBe(true);
  });

  it("copies a Buffer that is a slice of a larger, possibly unaligned, allocation", () => {
    const pool = Buffer.alloc(1 + 2 * 4);
    Buffer.from(Float32Array.from([0.5, -2]).buffer).copy(pool, 1);
    const slice = pool.subarray(1);
    const table = MemoryVectorTable.fromBuffer(2, slice);
    expect(rowsOf(table)).toEqual([[0.5, -2]]);
    expect(table.row(0).buffer).not.toBe(pool.buffer);
  });

  it("reads an empty file as an empty table, and refuses a partial row", () => {
    const empty = MemoryVectorTable.fromBuffer(4, Buffer.alloc(0));
    expect(empty.size).toBe(0);
    expect(empty.append(Float32Array.from([1, 2, 3, 4]))).toBe(0);
    expect(() => MemoryVectorTable.fromBuffer(4, Buffer.alloc(12))).toThrow(
      "vector file has 12 bytes, not a whole number of 4-d float32 rows",
    );
  });
});
