/**
 * The store's bulk add with faiss's add pipelined on a worker thread against the same add
 * with faiss on the main thread after the packing (addBufferAsync hidden, as with an addon
 * older than v3), side by side in one process, interleaved over `--reps` repetitions:
 * `--count` clustered 512-d vectors as one Float32Array into Flat and IVF256,Flat (trained
 * once, untimed, on 8,192 other vectors; every timed add starts from a load of that save).
 * Also the pipeline's chunk size: the table's append alone (packing and faiss, no id or
 * Document maps) at several chunk sizes. Prints vectors/s of wall time and per CPU-second
 * (the process's CPU time on all threads, its worker thread included) and the ratios, and
 * the longest the event loop was blocked meanwhile (the longest gap between ticks of a 1 ms
 * timer). CPU/wall above 1 is the overlap: the worker thread adding while the main thread
 * packs. It cannot exceed what the machine lends this process: printed first and last as the
 * CPU/wall of two threads spinning for 1 s (about 2 on an idle 2-core machine).
 * faiss runs on `--threads` OpenMP threads (default 1, as the bulk table's reference row).
 * One untimed warm-up of each mode first (JIT), and the two store modes alternate which goes first.
 *
 *   npx tsx bench/async_add_side_by_side.ts [--count 100000] [--reps 3] [--threads 1]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { parseArgs } from "node:util";
import { Document } from "@langchain/core/documents";
import { FakeEmbeddings } from "@langchain/core/utils/testing";
import { ImageFaissStore } from "../src/index.js";
import { loadFaiss } from "../src/utils/imports.js";
import type { IndexedTable } from "../src/vectorstores/indexed_table.js";
import { clusteredUnitVectors } from "./stats.js";

const { values } = parseArgs({
  options: { count: { type: "string" }, reps: { type: "string" }, threads: { type: "string" } },
});
const COUNT = Number(values.count ?? 100_000);
const REPS = Number(values.reps ?? 3);
const THREADS = Number(values.threads ?? 1);
const DIM = 512;
const TRAIN = 8_192;
const INDEX_TYPES = ["Flat", "IVF256,Flat"];
const CHUNKS = [4_096, 8_192, 16_384, 32_768];

const flat = clusteredUnitVectors(COUNT, DIM, 1_000, 3);
const docs = Array.from({ length: COUNT }, (_, i) => new Document({ pageContent: `doc ${i}`, id: `id-${i}` }));
const ids = docs.map((d) => d.id!);

const faiss = await loadFaiss();
const prototypes = [faiss.Index, faiss.IndexFlatL2, faiss.IndexFlatIP].map(
  (c) => c.prototype as unknown as Record<string, unknown>,
);
const asyncAdds = prototypes.map((p) => p.addBufferAsync);
if (asyncAdds.some((m) => typeof m !== "function")) throw new Error("this addon has no addBufferAsync: rebuild it");
/** Shows or hides addBufferAsync: hidden, faiss adds on the main thread after each chunk is packed. */
const useAsyncAdd = (on: boolean) =>
  prototypes.forEach((p, i) => (on ? (p.addBufferAsync = asyncAdds[i]) : delete p.addBufferAsync));

const scratch = await mkdtemp(join(tmpdir(), "async-add-"));
const trained: Record<string, string> = {};
for (const indexType of INDEX_TYPES.filter((t) => t !== "Flat")) {
  const store = new ImageFaissStore(new FakeEmbeddings(), { indexType, trainSize: TRAIN, threads: THREADS });
  const train = clusteredUnitVectors(TRAIN, DIM, 1_000, 4);
  const trainDocs = Array.from({ length: TRAIN }, (_, i) => new Document({ pageContent: "", id: `t${i}` }));
  await store.addVectors(train, trainDocs);
  trained[indexType] = join(scratch, indexType.replace(/\W/g, "_"));
  await store.save(trained[indexType]);
}
const freshStore = (indexType: string) =>
  trained[indexType]
    ? ImageFaissStore.load(trained[indexType], new FakeEmbeddings(), { threads: THREADS })
    : Promise.resolve(new ImageFaissStore(new FakeEmbeddings(), { indexType, threads: THREADS }));

interface Rate {
  wall: number;
  cpu: number;
  /** The longest event-loop block during the add, in ms. */
  blockedMs: number;
}
/** The rows of an add: all `COUNT`, or (warming up) the first `rows` of them. */
const part = (rows = COUNT) => ({
  flat: flat.subarray(0, rows * DIM),
  docs: docs.slice(0, rows),
  ids: ids.slice(0, rows),
});
/** Starts a 1 ms timer loop; the returned function stops it and gives the longest gap between ticks, in ms. */
function watchEventLoop(): () => number {
  let last = performance.now();
  let longest = 0;
  let timer = setTimeout(function tick() {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    timer = setTimeout(tick, 1);
  }, 1);
  return () => {
    clearTimeout(timer);
    return Math.max(longest, performance.now() - last);
  };
}
async function timed(work: () => Promise<unknown>, rows = COUNT): Promise<Rate> {
  const blocked = watchEventLoop();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: rows / seconds, cpu: rows / ((cpu.user + cpu.system) / 1e6), blockedMs: blocked() };
}

/** CPU/wall of this thread and a worker spinning for 1 s: how many cores the machine lends this process now. */
async function coresLent(): Promise<number> {
  const spin = "const end = performance.now() + 1000; let x = 0; while (performance.now() < end) x++;";
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const worker = new Worker(`${spin} require("node:worker_threads").parentPort.postMessage(x);`, { eval: true });
  const done = new Promise((resolve) => worker.once("message", resolve));
  new Function(spin)();
  await done;
  await worker.terminate();
  const cpu = process.cpuUsage(cpuBefore);
  return (cpu.user + cpu.system) / 1000 / (performance.now() - start);
}
const coresBefore = await coresLent();

const runs: Record<string, Rate[]> = {};
const record = (name: string, rate: Rate, keep: boolean) => {
  if (keep) (runs[name] ??= []).push(rate);
  console.error(
    `  ${keep ? "" : "(warm-up) "}${name}: ${Math.round(rate.wall)}/s wall, ${Math.round(rate.cpu)}/CPU-s, event loop blocked up to ${Math.round(rate.blockedMs)} ms`,
  );
};
async function storeAdd(indexType: string, pipelined: boolean, rows: number, keep: boolean) {
  useAsyncAdd(pipelined);
  const store = await freshStore(indexType);
  const { flat: f, docs: d, ids: i } = part(rows);
  record(
    `store ${pipelined ? "pipelined" : "sequential"} ${indexType}`,
    await timed(() => store.addVectors(f, d, { ids: i }), rows),
    keep,
  );
  useAsyncAdd(true);
}
async function tableAppend(indexType: string, chunk: number, rows: number, keep: boolean) {
  const store = await freshStore(indexType);
  // The table's append alone, at this chunk size: a first small add creates the table.
  await store.addVectors(flat.subarray(0, DIM), [new Document({ pageContent: "", id: "first" })]);
  const table = store["table"] as IndexedTable;
  const rowsFlat = part(rows).flat;
  record(
    `table chunk ${chunk} ${indexType}`,
    await timed(() => table.appendVectors(rowsFlat, undefined, chunk), rows),
    keep,
  );
}

const WARM_UP = Math.min(COUNT, 3 * CHUNKS[0]);
for (const indexType of INDEX_TYPES) {
  for (const pipelined of [false, true]) await storeAdd(indexType, pipelined, WARM_UP, false);
  for (const chunk of CHUNKS) await tableAppend(indexType, chunk, WARM_UP, false);
}
for (let rep = 0; rep < REPS; rep++) {
  console.error(`repetition ${rep + 1} of ${REPS}`);
  for (const indexType of INDEX_TYPES) {
    const order = rep % 2 === 0 ? [false, true] : [true, false];
    for (const pipelined of order) await storeAdd(indexType, pipelined, COUNT, true);
    for (const chunk of CHUNKS) await tableAppend(indexType, chunk, COUNT, true);
  }
}
await rm(scratch, { recursive: true, force: true });
const coresAfter = await coresLent();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `${COUNT} × ${DIM}-d, faiss on ${THREADS} thread(s), ${REPS} interleaved repetitions; medians (all repetitions)`,
);
console.log(`two spinning threads got CPU/wall ${coresBefore.toFixed(2)} before, ${coresAfter.toFixed(2)} after`);
for (const [name, rates] of Object.entries(runs)) {
  const all = rates.map((r) => `${Math.round(r.wall / 1000)}k`).join(" ");
  console.log(
    `${name.padEnd(34)} wall ${Math.round(median(rates.map((r) => r.wall)))}/s (${all})  cpu ${Math.round(median(rates.map((r) => r.cpu)))}/CPU-s  event loop blocked up to ${Math.round(median(rates.map((r) => r.blockedMs)))} ms  CPU/wall ${median(rates.map((r) => r.wall / r.cpu)).toFixed(2)}`,
  );
}
for (const indexType of INDEX_TYPES) {
  const ratio = (pick: (r: Rate) => number) =>
    (
      median(runs[`store pipelined ${indexType}`].map(pick)) / median(runs[`store sequential ${indexType}`].map(pick))
    ).toFixed(2);
  console.log(
    `${indexType}: pipelined / sequential, wall ${ratio((r) => r.wall)}×, per CPU-second ${ratio((r) => r.cpu)}×`,
  );
}
