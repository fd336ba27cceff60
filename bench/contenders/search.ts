/**
 * Query latency over random unit vectors (512-d): Flat (exact) and HNSW32, one query at
 * a time, k = 10, through ImageFaissStore; HNSW recall@10 against Flat; the build time;
 * text query → top 10 end to end (the text tower included); save and load time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { ImageEmbeddings, ImageFaissStore } from "../../src/index.js";
import { percentile, randomUnitVectors, rows } from "../stats.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{ model: string; count: number; queries: number; textQueries: number; indexTypes: string[]; efSearch: number; efSweep: number[]; saveLoad: boolean }>();
const DIM = 512;
const embeddings = new ImageEmbeddings({ model: args.model });
const data = randomUnitVectors(args.count, DIM, 1);
const queries = rows(randomUnitVectors(args.queries, DIM, 2), DIM);

const results: Record<string, unknown> = { count: args.count };
let exact: string[][] | undefined;
for (const indexType of args.indexTypes) {
  const store = new ImageFaissStore(embeddings, { indexType, efSearch: args.efSearch });
  const buildStart = performance.now();
  const chunk = 50_000;
  for (let start = 0; start < args.count; start += chunk) {
    const end = Math.min(args.count, start + chunk);
    const ids = Array.from({ length: end - start }, (_, i) => String(start + i));
    await store.addVectors(rows(data, DIM, start, end), ids.map((id) => new Document({ pageContent: id })), { ids });
  }
  const buildSeconds = (performance.now() - buildStart) / 1000;

  const { latencies, found } = await timeQueries(store);
  let recall: number | undefined;
  if (indexType === "Flat") exact = found;
  else recall = recallAgainstExact(found);

  const textLatencies: number[] = [];
  await embeddings.embedQuery("warm up");
  for (let i = 0; i < args.textQueries; i++) {
    const t = performance.now();
    await store.similaritySearchWithScore(`a photo of thing number ${i}`, 10);
    textLatencies.push(performance.now() - t);
  }

  let saveSeconds: number | undefined;
  let loadSeconds: number | undefined;
  // HNSW's speed/recall trade-off: the same graph, loaded with other efSearch values.
  const sweep: { efSearch: number; p50Ms: number; p99Ms: number; recallAt10: number | undefined }[] = [];
  if (args.saveLoad || (indexType.startsWith("HNSW") && args.efSweep.length)) {
    const dir = await mkdtemp(join(tmpdir(), "bench-index-"));
    let t = performance.now();
    await store.save(dir);
    saveSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const loaded = await ImageFaissStore.load(dir, embeddings);
    loadSeconds = (performance.now() - t) / 1000;
    if (loaded.entries().length !== args.count) throw new Error("the loaded index lost vectors");
    if (indexType.startsWith("HNSW")) {
      for (const efSearch of args.efSweep) {
        const tuned = await ImageFaissStore.load(dir, embeddings, { efSearch });
        const run = await timeQueries(tuned);
        sweep.push({ efSearch, p50Ms: percentile(run.latencies, 50), p99Ms: percentile(run.latencies, 99), recallAt10: recallAgainstExact(run.found) });
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
  results[indexType] = {
    buildSeconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    recallAt10: recall,
    textP50Ms: percentile(textLatencies, 50),
    textP99Ms: percentile(textLatencies, 99),
    saveSeconds,
    loadSeconds,
    sweep,
  };
}
report(results);

async function timeQueries(store: ImageFaissStore) {
  const latencies: number[] = [];
  const found: string[][] = [];
  for (const q of queries) {
    const t = performance.now();
    const hits = await store.similaritySearchVectorWithScore(q, 10);
    latencies.push(performance.now() - t);
    found.push(hits.map(([doc]) => doc.id!));
  }
  return { latencies, found };
}

/** recall@10: the share of Flat's (exact) top 10 that the index also returned. */
function recallAgainstExact(found: string[][]): number | undefined {
  return exact && found.reduce((s, ids, i) => s + ids.filter((id) => exact![i].includes(id)).length, 0) / (10 * found.length);
}
await embeddings.dispose();
