/**
 * Query latency over random unit vectors (512-d; uniform, or in groups with `data: "clustered"`): Flat (exact) and HNSW32, one query at
 * a time, k = 10, through ImageFaissStore; HNSW recall@10 against Flat; the build time;
 * text query → top 10 end to end (the text tower included); save and load time. Flat is
 * also timed against faiss-node's own IndexFlatIP over the same vectors, the two queried
 * in turn, so the store's share of each query shows side by side.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import type { Index } from "faiss-node";
import { ImageEmbeddings, ImageFaissStore } from "../../src/index.js";
import { loadFaiss } from "../../src/utils/imports.js";
import { clusteredUnitVectors, percentile, randomUnitVectors, rows } from "../stats.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{
  model: string;
  count: number;
  /** "uniform" (the default) or "clustered": 1,000 groups, as embeddings of a photo collection form (see stats.ts). */
  data?: "uniform" | "clustered";
  queries: number;
  textQueries: number;
  indexTypes: string[];
  efSearch: number;
  efSweep: number[];
  saveLoad: boolean;
  /**
   * Where to keep the index types in `keep` once built, and to find them built before:
   * HNSW32 over 1M vectors takes about an hour and a half to build here, so a run reuses
   * the last build (with its recorded build time) instead of repeating it.
   */
  builtIndexes?: string;
  keep?: string[];
}>();
const DIM = 512;
const embeddings = new ImageEmbeddings({ model: args.model });
const vectors = (count: number, seed: number) =>
  args.data === "clustered" ? clusteredUnitVectors(count, DIM, 1000, seed) : randomUnitVectors(count, DIM, seed);
const data = vectors(args.count, 1);
const queries = rows(vectors(args.queries, 2), DIM);

const results: Record<string, unknown> = { count: args.count, data: args.data ?? "uniform" };
let exact: string[][] | undefined;
for (const indexType of args.indexTypes) {
  const kept =
    args.builtIndexes && args.keep?.includes(indexType)
      ? join(args.builtIndexes, `${args.data ?? "uniform"}-${args.count}-${indexType}`)
      : undefined;
  const { store, buildSeconds, buildNote, keptLoadSeconds } =
    kept && existsSync(join(kept, "build.json")) ? await loadKept(kept) : await build(indexType, kept);

  const { latencies, found, rawLatencies } = await timeQueries(
    store,
    indexType === "Flat" ? await rawFlatIndex() : undefined,
  );
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
    collectGarbage(); // the raw faiss-node index, before loading copies of the store
    const dir = kept ?? (await mkdtemp(join(tmpdir(), "bench-index-")));
    if (kept) {
      loadSeconds = keptLoadSeconds; // a kept index is saved already: its load is this run's
    } else {
      let t = performance.now();
      await store.save(dir);
      saveSeconds = (performance.now() - t) / 1000;
      t = performance.now();
      const loaded = await ImageFaissStore.load(dir, embeddings);
      loadSeconds = (performance.now() - t) / 1000;
      if (loaded.entries().length !== args.count) throw new Error("the loaded index lost vectors");
    }
    if (indexType.startsWith("HNSW")) {
      for (const efSearch of args.efSweep) {
        const tuned = await ImageFaissStore.load(dir, embeddings, { efSearch });
        const run = await timeQueries(tuned);
        sweep.push({
          efSearch,
          p50Ms: percentile(run.latencies, 50),
          p99Ms: percentile(run.latencies, 99),
          recallAt10: recallAgainstExact(run.found),
        });
        collectGarbage();
      }
    }
    if (!kept) await rm(dir, { recursive: true, force: true });
  }
  results[indexType] = {
    buildSeconds,
    buildNote,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    rawFaissP50Ms: rawLatencies.length ? percentile(rawLatencies, 50) : undefined,
    rawFaissP99Ms: rawLatencies.length ? percentile(rawLatencies, 99) : undefined,
    recallAt10: recall,
    textP50Ms: percentile(textLatencies, 50),
    textP99Ms: percentile(textLatencies, 99),
    saveSeconds,
    loadSeconds,
    sweep,
  };
  collectGarbage();
}
report(results);

async function build(indexType: string, keepIn?: string) {
  const store = new ImageFaissStore(embeddings, { indexType, efSearch: args.efSearch });
  const started = performance.now();
  const chunk = 50_000;
  for (let start = 0; start < args.count; start += chunk) {
    const end = Math.min(args.count, start + chunk);
    const ids = Array.from({ length: end - start }, (_, i) => String(start + i));
    await store.addVectors(
      rows(data, DIM, start, end),
      ids.map((id) => new Document({ pageContent: id })),
      { ids },
    );
  }
  const buildSeconds = (performance.now() - started) / 1000;
  if (keepIn) {
    await store.save(keepIn);
    await writeFile(join(keepIn, "build.json"), JSON.stringify({ buildSeconds }));
  }
  return {
    store,
    buildSeconds,
    buildNote: undefined as string | undefined,
    keptLoadSeconds: undefined as number | undefined,
  };
}

/** An index kept by an earlier run, loaded with this run's efSearch; its build time is the one recorded then. */
async function loadKept(dir: string) {
  const recorded = JSON.parse(await readFile(join(dir, "build.json"), "utf8")) as {
    buildSeconds: number;
    note?: string;
  };
  const started = performance.now();
  const store = await ImageFaissStore.load(dir, embeddings, { efSearch: args.efSearch });
  const keptLoadSeconds = (performance.now() - started) / 1000;
  if (store.entries().length !== args.count)
    throw new Error(`${dir} holds ${store.entries().length} vectors, not ${args.count}`);
  return {
    store,
    buildSeconds: recorded.buildSeconds,
    buildNote: recorded.note ?? "built by an earlier run",
    keptLoadSeconds,
  };
}

/**
 * A full garbage collection now. A store's faiss index lives outside the JS heap and is
 * freed only when its wrapper is collected, so stores of a million vectors loaded one
 * after another (4 GB each) would otherwise pile up past this machine's memory.
 */
function collectGarbage() {
  v8.setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/** Each query through the store and, when given, straight through faiss-node too (which goes first alternates). */
async function timeQueries(store: ImageFaissStore, raw?: Index) {
  // One untimed query each first: over 1M vectors one Flat query took 2.4 s against a
  // 74 ms median, and with 50 queries p99 is the slowest one. A warm-up keeps a one-off
  // cost of a fresh index out of the percentiles.
  await store.similaritySearchVectorWithScore(queries[0], 10);
  raw?.search(queries[0], 10);
  const latencies: number[] = [];
  const rawLatencies: number[] = [];
  const found: string[][] = [];
  for (const [i, q] of queries.entries()) {
    const rawSearch = () => {
      const t = performance.now();
      const { labels } = raw!.search(q, 10);
      rawLatencies.push(performance.now() - t);
      return labels;
    };
    const rawFirst = raw && i % 2 === 1 ? rawSearch() : undefined;
    const t = performance.now();
    const hits = await store.similaritySearchVectorWithScore(q, 10);
    latencies.push(performance.now() - t);
    found.push(hits.map(([doc]) => doc.id!));
    const labels = raw && (rawFirst ?? rawSearch());
    if (labels && !found[i].includes(String(labels[0])))
      throw new Error("faiss-node and the store disagree on the nearest vector");
  }
  return { latencies, found, rawLatencies };
}

/** faiss-node's IndexFlatIP over the same vectors, nothing else around it. */
async function rawFlatIndex(): Promise<Index> {
  const { IndexFlatIP } = await loadFaiss();
  const index = new IndexFlatIP(DIM);
  const chunk = 16_384;
  for (let start = 0; start < args.count; start += chunk)
    index.add(Array.from(data.subarray(start * DIM, Math.min(args.count, start + chunk) * DIM)));
  return index;
}

/** recall@10: the share of Flat's (exact) top 10 that the index also returned. */
function recallAgainstExact(found: string[][]): number | undefined {
  return (
    exact && found.reduce((s, ids, i) => s + ids.filter((id) => exact![i].includes(id)).length, 0) / (10 * found.length)
  );
}
await embeddings.dispose();
