/**
 * pgvector against FAISS at one size, on the same clustered 512-d vectors and queries:
 * insert rate, HNSW build, single-query p50/p99 (k = 10) and recall@10 against exact
 * search (faiss-node's IndexFlatIP), for
 * - PgvectorImageStore on PGlite (Postgres + pgvector in WASM, over the wire protocol, in
 *   its own process: test/helpers/pglite_server.ts), rows written with `addVectors` and
 *   their Documents, the HNSW index built after the load (as the store does), with the
 *   given maintenance_work_mem; PGlite's own CPU time for the insert and the build is read
 *   from /proc, apart from the load of a shared machine;
 * - ImageFaissStore with HNSW32, the same vectors and Documents.
 * Each store runs with its defaults (pgvector m 16, ef_construction 64; faiss M 32,
 * efConstruction 40) and the same ef_search.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Document } from "@langchain/core/documents";
import pg from "pg";
import { ImageEmbeddings, ImageFaissStore, PgvectorImageStore } from "../../src/index.js";
import { loadFaiss } from "../../src/utils/imports.js";
import { FaissIndex } from "../../src/vectorstores/faiss_index.js";
import { toVectorBinary } from "../../src/vectorstores/pgvector/vector_binary.js";
import { startPgliteServer } from "../../test/helpers/pglite_server.js";
import { clusteredUnitVectors, percentile, rows } from "../stats.js";
import { measure, readArgs, report } from "./child.js";

const args = readArgs<{
  /** A 512-d model, only for the stores' embeddings (nothing is embedded). */
  model: string;
  count: number;
  queries: number;
  /** Queries through pgvector without an index (exact, a sequential scan): slow, so few. */
  exactQueries: number;
  /** Queries also run under EXPLAIN ANALYZE, for Postgres' own time. */
  explainQueries: number;
  efSearch: number;
  /** Vectors per `addVectors` call. */
  chunk: number;
  /** Postgres' maintenance_work_mem for the HNSW build (the store's `maintenanceWorkMem`): much faster when the graph fits. */
  maintenanceWorkMem: string;
  /** Turn off sequential scans for the HNSW queries (PGlite's one session: it reaches the store's connections). */
  forceIndex: boolean;
}>();
const DIM = 512;
const data = clusteredUnitVectors(args.count, DIM, 1000, 1);
const queries = rows(clusteredUnitVectors(args.queries, DIM, 1000, 2), DIM);
const embeddings = new ImageEmbeddings({ model: args.model });
const documentsFor = (start: number, end: number) =>
  Array.from({ length: end - start }, (_, i) => new Document({ pageContent: "", metadata: { row: start + i } }));

// Exact top 10 by row number, from faiss's exact inner-product scan.
const { IndexFlatIP } = await loadFaiss();
const flat = new IndexFlatIP(DIM);
for (let start = 0; start < args.count; start += 16_384)
  flat.add(Array.from(data.subarray(start * DIM, Math.min(args.count, start + 16_384) * DIM)));
const exact = queries.map((q) => flat.search(q, 10).labels.map(Number));
/** The share of the exact top 10 found, over the first `found.length` queries. */
const recallAt10 = (found: number[][]) =>
  found.reduce((s, rowsFound, i) => s + rowsFound.filter((r) => exact[i].includes(r)).length, 0) / (10 * found.length);

/** Times each query (one warm-up first) and returns the latencies and the rows found. */
async function timeQueries(search: (q: number[]) => Promise<[Document, number][]>, qs: number[][]) {
  await search(qs[0]);
  const latencies: number[] = [];
  const found: number[][] = [];
  for (const q of qs) {
    const t = performance.now();
    const hits = await search(q);
    latencies.push(performance.now() - t);
    found.push(hits.map(([d]) => d.metadata.row as number));
  }
  return { latencies, found };
}

/** CPU seconds (user + system) a process has used so far, from /proc: PGlite's own work, however loaded the machine. */
const cpuSecondsOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const results: Record<string, unknown> = { count: args.count, queries: args.queries, efSearch: args.efSearch };

// FAISS first: it is quick, and its memory is freed before PGlite grows.
{
  const store = new ImageFaissStore(embeddings, { indexType: "HNSW32", efSearch: args.efSearch });
  const load = await measure(async () => {
    for (let start = 0; start < args.count; start += args.chunk) {
      const end = Math.min(args.count, start + args.chunk);
      await store.addVectors(rows(data, DIM, start, end), documentsFor(start, end));
    }
  });
  const run = await timeQueries((q) => store.similaritySearchVectorWithScore(q, 10), queries);
  results.faiss = {
    index: "HNSW32",
    // With our addon (v2) a single query searches on one OpenMP thread (FaissIndex.search); without it, on all.
    oneThreadPerQuery: (await FaissIndex.threadCount()) !== undefined,
    insertSeconds: load.seconds,
    insertPerSecond: args.count / load.seconds,
    // faiss builds the graph while it adds: the insert is the build.
    buildSeconds: load.seconds,
    p50Ms: percentile(run.latencies, 50),
    p99Ms: percentile(run.latencies, 99),
    recallAt10: recallAt10(run.found),
  };
  console.error("faiss", JSON.stringify(results.faiss));
}

const server = await startPgliteServer({ maxConnections: 8 });
const pglite = server.child.pid!;
try {
  const store = await PgvectorImageStore.initialize(embeddings, {
    connectionString: server.url,
    tableName: "bench_vectors",
    efSearch: args.efSearch,
    hnswIndexAt: Infinity,
    poolSize: 2,
  });
  try {
    const insertCpuBefore = cpuSecondsOf(pglite);
    const load = await measure(async () => {
      for (let start = 0; start < args.count; start += args.chunk) {
        const end = Math.min(args.count, start + args.chunk);
        await store.addVectors(rows(data, DIM, start, end), documentsFor(start, end));
      }
    });
    const insertServerCpuSeconds = cpuSecondsOf(pglite) - insertCpuBefore;
    console.error(`pgvector insert: ${load.seconds.toFixed(1)} s`);
    const scan = await timeQueries(
      (q) => store.similaritySearchVectorWithScore(q, 10),
      queries.slice(0, args.exactQueries),
    );
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const buildCpuBefore = cpuSecondsOf(pglite);
    const build = await measure(() => store.createHnswIndex({ maintenanceWorkMem: args.maintenanceWorkMem }));
    const buildServerCpuSeconds = cpuSecondsOf(pglite) - buildCpuBefore;
    const { rows: size } = await client.query(
      `SELECT pg_relation_size('bench_vectors_embedding_hnsw_idx'::regclass) AS index_bytes,
              pg_total_relation_size('bench_vectors'::regclass) AS total_bytes`,
    );
    console.error(`pgvector HNSW build: ${build.seconds.toFixed(1)} s`);
    // Below some tens of thousands of rows Postgres' planner may prefer a sequential scan to the index (it did at
    // 2,000 here); this measures the index, as at the sizes it is built for. The plans below confirm it was used.
    if (args.forceIndex) await client.query("SET enable_seqscan = off");
    const run = await timeQueries((q) => store.similaritySearchVectorWithScore(q, 10), queries);
    // Postgres' own time for the same search (EXPLAIN ANALYZE), apart from PGlite's per-query cost (WASM, the wire
    // protocol, the vector's text), and whether the plan used the HNSW index.
    const plans: { ms: number; index: boolean }[] = [];
    for (const q of queries.slice(0, args.explainQueries)) {
      const { rows: plan } = await client.query(
        `EXPLAIN (ANALYZE, FORMAT JSON) SELECT id, embedding <=> $1::vector AS d FROM bench_vectors
         ORDER BY embedding <=> $1::vector LIMIT 10`,
        [toVectorBinary(Float32Array.from(q))],
      );
      const [top] = plan[0]["QUERY PLAN"] as { "Execution Time": number; Plan: unknown }[];
      plans.push({
        ms: top["Execution Time"],
        index: JSON.stringify(top.Plan).includes("bench_vectors_embedding_hnsw_idx"),
      });
    }
    await client.end();
    results.pgvector = {
      index: "HNSW (m 16, ef_construction 64)",
      pgvector: store.pgvectorVersion,
      insertSeconds: load.seconds,
      insertPerSecond: args.count / load.seconds,
      insertServerCpuSeconds,
      exactP50Ms: percentile(scan.latencies, 50),
      exactQueries: scan.latencies.length,
      exactRecallAt10: recallAt10(scan.found),
      buildSeconds: build.seconds,
      buildServerCpuSeconds,
      maintenanceWorkMem: args.maintenanceWorkMem,
      graphOutgrewMemoryAfter: build.value.outgrewMemoryAfter ?? null,
      indexBytes: Number(size[0].index_bytes),
      tableBytes: Number(size[0].total_bytes),
      p50Ms: percentile(run.latencies, 50),
      p99Ms: percentile(run.latencies, 99),
      recallAt10: recallAt10(run.found),
      serverP50Ms: percentile(
        plans.map((p) => p.ms),
        50,
      ),
      explainedQueries: plans.length,
      usedHnswIndex: plans.every((p) => p.index),
      forcedIndex: args.forceIndex,
    };
    console.error("pgvector", JSON.stringify(results.pgvector));
  } finally {
    await store.end();
  }
} finally {
  await server.stop();
}

report({ ...results, loadAverage: loadavg() });
await embeddings.dispose();
