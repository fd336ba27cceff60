/**
 * RSS of loading a saved store with its vectors in memory (the default) and on disk
 * (`vectorsOnDisk: true`). Builds one store of N clustered 512-d vectors (in chunks, with
 * `vectorsOnDisk`, so the build holds no JS copy of them all), then loads it in a fresh
 * process per mode and reports RSS before and after the load, the peak, and the time of
 * reading 300 random rows (what a re-rank or MMR asks for) and one search.
 *
 *   npx tsx bench/vectors_on_disk_rss.ts [count] [indexType]   (default: 200000 "IVF64,SQ8")
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageFaissStore } from "../src/index.js";
import { clusteredVectors, documentsFor, noEmbeddings } from "../test/helpers/vectors.js";

const DIM = 512;
const CHUNK = 10_000;
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const rss = () => process.memoryUsage().rss;
/** Peak RSS of this process so far (resourceUsage gives kilobytes). */
const peak = () => process.resourceUsage().maxRSS * 1024;

const [mode, ...rest] = process.argv.slice(2);

if (mode === "--load") {
  const [directory, how] = rest;
  const vectorsOnDisk = how === "disk";
  // faiss-node and the library loaded first, so the difference is the store's own.
  const warm = new ImageFaissStore(noEmbeddings);
  await warm.addVectors([new Array(DIM).fill(1)], documentsFor([[0]]).documents, { ids: ["warm"] });
  const before = rss();
  const started = performance.now();
  const store = await ImageFaissStore.load(directory, noEmbeddings, { vectorsOnDisk });
  const loadMs = performance.now() - started;
  const after = rss();
  const ids = store.entries().map((e) => e.id);
  // Medians over 20 rounds (after one to warm up): 300 other random ids looked up, and one search.
  const gathers: number[] = [];
  const searches: number[] = [];
  for (let round = 0; round < 21; round++) {
    const wanted = Array.from({ length: 300 }, (_, i) => ids[(i * 7_919 + round * 104_729) % ids.length]);
    let t = performance.now();
    const rows = await store.getVectorsById(wanted);
    if (round > 0) gathers.push(performance.now() - t);
    t = performance.now();
    const hits = await store.similaritySearchVectorWithScore(rows[0]!, 10);
    if (round > 0) searches.push(performance.now() - t);
    if (!hits.some(([d]) => d.id === wanted[0])) throw new Error(`search did not find ${wanted[0]} itself`);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
  const [gatherMs, searchMs] = [median(gathers), median(searches)];
  console.log(
    JSON.stringify({
      how,
      size: store.size,
      beforeMB: mb(before),
      afterMB: mb(after),
      peakMB: mb(peak()),
      loadMs,
      gatherMs,
      searchMs,
    }),
  );
} else {
  const count = Number(mode ?? 200_000);
  const indexType = rest[0] ?? "IVF64,SQ8";
  const directory = await mkdtemp(join(tmpdir(), "lie-ondisk-rss-"));
  try {
    const started = performance.now();
    const store = new ImageFaissStore(noEmbeddings, { indexType, ivfTrainSize: 5_000, vectorsOnDisk: true });
    for (let from = 0; from < count; from += CHUNK) {
      const vectors = clusteredVectors(Math.min(CHUNK, count - from), DIM, from + 1, 100, 0.05);
      const { documents, ids } = documentsFor(vectors, `c${from}-`);
      await store.addVectors(vectors, documents, { ids });
    }
    await store.save(directory);
    console.log(
      `built ${count} ${DIM}-d vectors (${indexType}, vectorsOnDisk) in ${((performance.now() - started) / 1000).toFixed(1)} s, peak RSS ${mb(peak())} MB; vectors ${mb(count * DIM * 4)} MB`,
    );
    for (const how of ["memory", "disk", "memory", "disk"]) {
      const child = spawnSync(process.execPath, ["--import", "tsx", import.meta.filename, "--load", directory, how], {
        encoding: "utf8",
      });
      if (child.status !== 0) throw new Error(child.stderr);
      const r = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
      console.log(
        `${how.padEnd(6)} load ${(r.loadMs / 1000).toFixed(2)} s: RSS ${r.beforeMB} → ${r.afterMB} MB (+${r.afterMB - r.beforeMB}), peak ${r.peakMB} MB; 300 random rows by id ${r.gatherMs.toFixed(1)} ms; one search ${r.searchMs.toFixed(1)} ms (medians of 20)`,
      );
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
