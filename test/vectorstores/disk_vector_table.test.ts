/** DiskVectorTable against MemoryVectorTable: the same rows through row, gather and slices, across files, saves and rebuilds. */
import { readdir, rm, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiskVectorTable } from "../../src/vectorstores/disk_vector_table.js";
import { MemoryVectorTable, type VectorTable } from "../../src/vectorstores/vector_table.js";
import { tempDir } from "../helpers/fixtures.js";
import { rng } from "../helpers/shapes.js";

const DIM = 12;

function randomRows(count: number, seed: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: count * DIM }, () => random() * 2 - 1);
}

/** Every way of reading the table gives the memory table's rows. */
function expectSameRows(disk: VectorTable, memory: VectorTable, seed: number): void {
  expect(disk.size).toBe(memory.size);
  const n = memory.size;
  for (const p of [0, n - 1, Math.floor(n / 2)]) expect(Array.from(disk.row(p))).toEqual(Array.from(memory.row(p)));
  const random = rng(seed);
  // Random positions in random order with repeats, runs of neighbours and small gaps.
  const positions = Array.from({ length: 300 }, () => Math.floor(random() * n));
  positions.push(5, 6, 7, 9, 9, 12, n - 1, 0);
  expect(disk.gather(positions)).toEqual(memory.gather(positions));
  const streamed = [...disk.slices(3, n, 37)];
  expect(streamed.slice(0, -1).every((s) => s.length === 37 * DIM)).toBe(true);
  expect(Float32Array.from(streamed.flatMap((s) => Array.from(s)))).toEqual(memory.gather(range(3, n)));
}

const range = (start: number, end: number) => Array.from({ length: end - start }, (_, i) => start + i);

describe("DiskVectorTable", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("lie-disk-table-"));
  });
  afterAll(async () => {
    await cleanup();
  });

  it("reads back what it appended, from a scratch folder, then from the store folder after a save", async () => {
    const scratch = join(dir, "scratch");
    const disk = DiskVectorTable.create(DIM, scratch);
    const memory = new MemoryVectorTable(DIM);
    for (let batch = 0; batch < 5; batch++) {
      const rows = randomRows(100 + batch, batch + 1);
      expect(disk.append(rows)).toBe(memory.append(rows));
    }
    expectSameRows(disk, memory, 1);
    const [scratchFolder] = await readdir(scratch);
    expect(await readdir(join(scratch, scratchFolder))).toHaveLength(1);

    const store = join(dir, "store-a");
    const saved = await disk.prepareSave(store);
    expect(saved).toEqual({ files: [{ file: expect.stringMatching(/\.f32$/), rows: memory.size }] });
    const { file } = (saved as { files: { file: string }[] }).files[0];
    expect((await stat(join(store, "vectors", file))).size).toBe(memory.size * DIM * 4);
    expect(await readdir(scratch)).toEqual([]); // moved, and the scratch folder removed
    expect(disk.filesInUse(store)).toEqual([file]);

    // Appends after the save go on in the same file, past the saved rows.
    const more = randomRows(50, 9);
    disk.append(more);
    memory.append(more);
    expectSameRows(disk, memory, 2);
    const again = (await disk.prepareSave(store)) as { files: { file: string; rows: number }[] };
    expect(again.files).toEqual([{ file, rows: memory.size }]);
  });

  it("opens saved files read-only, ignores rows past the saved count, and appends to a new file of its own", async () => {
    const store = join(dir, "store-b");
    const writer = DiskVectorTable.create(DIM, join(dir, "scratch-b"));
    const memory = new MemoryVectorTable(DIM);
    const first = randomRows(400, 3);
    writer.append(first);
    memory.append(first);
    const { files } = (await writer.prepareSave(store)) as { files: { file: string; rows: number }[] };
    // Rows appended after the save, never saved (as by a run killed before its next save).
    writer.append(randomRows(70, 4));

    const reader = DiskVectorTable.open(DIM, store, [{ path: join(store, "vectors", files[0].file), rows: 400 }]);
    expectSameRows(reader, memory, 3);
    const added = randomRows(30, 5);
    expect(reader.append(added)).toBe(400);
    memory.append(added);
    expectSameRows(reader, memory, 4); // across the two files
    expect(await readdir(join(store, "vectors"))).toHaveLength(2);
    expect((await stat(join(store, "vectors", files[0].file))).size).toBe(470 * DIM * 4); // the saved file untouched

    // prefetch reads the rows the table holds in each file, not the unsaved ones after them.
    expect(await reader.prefetch()).toBe(430 * DIM * 4);
    expect(await memory.prefetch()).toBe(0);
    expectSameRows(reader, memory, 6);

    const rebuilt = await reader.select([0, 5, 399, 400, 429, 7]);
    expect(rebuilt.gather(range(0, 6))).toEqual(memory.gather([0, 5, 399, 400, 429, 7]));
    reader.retire(rebuilt);
    expect(await reader.prefetch()).toBe(0); // a retired table's files are closed: nothing is read
  });

  it("writes a file anew from its open descriptor when another writer removed it", async () => {
    const store = join(dir, "store-d");
    const table = DiskVectorTable.create(DIM, join(dir, "scratch-d"));
    const memory = new MemoryVectorTable(DIM);
    const rows = randomRows(64, 21);
    table.append(rows);
    memory.append(rows);
    const [saved] = ((await table.prepareSave(store)) as { files: { file: string }[] }).files;
    await rm(join(store, "vectors", saved.file));
    const [again] = ((await table.prepareSave(store)) as { files: { file: string; rows: number }[] }).files;
    expect(again.file).not.toBe(saved.file);
    expect(again.rows).toBe(64);
    expect((await stat(join(store, "vectors", again.file))).size).toBe(64 * DIM * 4);
    expectSameRows(table, memory, 6);
    table.close();
  });

  it("merges its newest files when a store has many, and refuses a file shorter than the saved count", async () => {
    const store = join(dir, "store-c");
    const memory = new MemoryVectorTable(DIM);
    let table = DiskVectorTable.create(DIM, join(dir, "scratch-c"));
    let files: { file: string; rows: number }[] = [];
    // Each round: a fresh load appends to a file of its own, so files pile up until a save merges them.
    for (let round = 0; round < 12; round++) {
      const rows = randomRows(20 + round, 100 + round);
      table.append(rows);
      memory.append(rows);
      ({ files } = (await table.prepareSave(store)) as { files: { file: string; rows: number }[] });
      expect(files.length).toBeLessThanOrEqual(8);
      table.close();
      table = DiskVectorTable.open(
        DIM,
        store,
        files.map(({ file, rows }) => ({ path: join(store, "vectors", file), rows })),
      );
    }
    expect(files.length).toBeLessThan(12);
    expectSameRows(table, memory, 5);
    table.close();

    const path = join(store, "vectors", files[0].file);
    await truncate(path, files[0].rows * DIM * 4 - 1);
    expect(() => DiskVectorTable.open(DIM, store, [{ path, rows: files[0].rows }])).toThrow(
      `${path} holds ${files[0].rows - 1} vectors of ${DIM} dimensions, but the saved store records ${files[0].rows}`,
    );
    expect(() => table.row(0)).toThrow("no vector at position 0");
  });
});
