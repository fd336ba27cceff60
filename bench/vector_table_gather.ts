/**
 * How long a re-rank's or MMR's read of a few hundred stored vectors takes: `gather` of
 * random positions from a MemoryVectorTable and from a DiskVectorTable (page cache warm),
 * and `row` one at a time, over N 512-d rows. Medians of 50 rounds.
 *
 *   npx tsx bench/vector_table_gather.ts [rows] [positions]   (default: 200000 300)
 */
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskVectorTable } from "../src/vectorstores/disk_vector_table.js";
import { MemoryVectorTable, type VectorTable } from "../src/vectorstores/vector_table.js";

const DIM = 512;
const rows = Number(process.argv[2] ?? 200_000);
const count = Number(process.argv[3] ?? 300);
const scratch = join(tmpdir(), `lie-gather-${process.pid}`);
const memory = new MemoryVectorTable(DIM, rows);
const disk = DiskVectorTable.create(DIM, scratch);
for (let from = 0; from < rows; from += 10_000) {
  const chunk = Float32Array.from({ length: Math.min(10_000, rows - from) * DIM }, Math.random);
  memory.append(chunk);
  disk.append(chunk);
}
let seed = 1;
const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];

function time(table: VectorTable, how: "gather" | "row"): number {
  const times: number[] = [];
  for (let round = 0; round < 51; round++) {
    const positions = Array.from({ length: count }, () => Math.floor(random() * rows));
    const started = performance.now();
    if (how === "gather") table.gather(positions);
    else for (const p of positions) table.row(p);
    if (round > 0) times.push(performance.now() - started);
  }
  return median(times);
}

for (const [name, table] of [
  ["memory", memory],
  ["disk", disk],
] as const) {
  console.log(
    `${name.padEnd(6)} ${count} random rows of ${rows}: gather ${time(table, "gather").toFixed(2)} ms, row by row ${time(table, "row").toFixed(2)} ms`,
  );
}
disk.close();
await rm(scratch, { recursive: true, force: true });
