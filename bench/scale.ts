/**
 * The scale benchmark of issue 17: clustered unit 512-d vectors streamed in chunks into an
 * ImageFaissStore, with exact ground truth kept while streaming, so 10M vectors never sit in
 * JS memory or in a Flat index. Each build and each search setting runs in its own process.
 * Store options are passed through as they are: the names are those of issue 17's contract
 * (indexType, trainSize, rerank, threads, vectorsOnDisk, efConstruction, efSearch, nprobe).
 *
 *   npx tsx bench/scale.ts run --count 1000000 --index "OPQ64,IVF4096,PQ64" --rerank 200 --nprobe 32 --vectors-on-disk
 *   npx tsx bench/scale.ts table   --count 1000000   # the README table: bytes/vector, recall, p50 per index type
 *   npx tsx bench/scale.ts efc     --count 100000    # HNSW32: recall and latency per efConstruction
 *   npx tsx bench/scale.ts threads --count 100000    # HNSW32 build and batch search on 1 and 2 threads
 *   npx tsx bench/scale.ts cost --counts 100000,1000000,10000000 --index "OPQ64,IVF{nlist},PQ64" --nprobe 32 --rerank 200 --vectors-on-disk
 *   npx tsx bench/scale_report.ts                    # docs/benchmarks.md "Ten million images" + docs/scale-cost.svg
 *
 * Lists (--nprobe 16,32 --ef-search 64,128 --rerank 0,200) give one search child per combination.
 * --cache cold,warm runs each search with the page cache dropped first (root only), or with the
 * store's vector files read once before timing (`prefetchVectors`): what `vectorsOnDisk` re-ranks depend on.
 * `{nlist}` in an index string becomes the power of two nearest 4·√count (1024 at 100k, 4096 at 1M, 16384 at 10M),
 * at most --max-nlist.
 * --option key=<json> passes any other store option. --keep keeps the saved store, --reuse searches a kept one again.
 * Results (--results, default .cache/bench): scale-<label>.json per run, and scale-table.json, scale-efc.json, scale-threads.json, scale-cost.json.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CACHE, readJson, runConfig, writeJson, type RunConfig, type RunResult } from "./scale/runner.js";
import { cacheList, dropUndefined, indexFor, integerList, searchSettings } from "./scale/settings.js";

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    count: { type: "string" },
    counts: { type: "string" },
    index: { type: "string" },
    label: { type: "string" },
    rerank: { type: "string" },
    nprobe: { type: "string" },
    "ef-search": { type: "string" },
    "ef-construction": { type: "string" },
    "train-size": { type: "string" },
    threads: { type: "string" },
    "vectors-on-disk": { type: "boolean", default: false },
    cache: { type: "string" },
    "max-nlist": { type: "string" },
    queries: { type: "string", default: "200" },
    chunk: { type: "string", default: "25000" },
    clusters: { type: "string", default: "1000" },
    option: { type: "string", multiple: true, default: [] },
    rows: { type: "string" },
    keep: { type: "boolean", default: false },
    reuse: { type: "boolean", default: false },
    "heap-mb": { type: "string", default: "16384" },
    "batch-seconds": { type: "string", default: "2" },
    results: { type: "string", default: CACHE },
  },
});

const single = (name: string, text: string | undefined) => {
  const list = integerList(name, text);
  if (list && list.length !== 1) throw new RangeError(`Expected one integer for --${name} but received "${text}"`);
  return list?.[0];
};

const extraOptions = Object.fromEntries(
  flags.option!.map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw new TypeError(`Expected key=<json> for --option but received "${pair}"`);
    const value = pair.slice(at + 1);
    try {
      return [pair.slice(0, at), JSON.parse(value)];
    } catch {
      return [pair.slice(0, at), value];
    }
  }),
);
const threadList = integerList("threads", flags.threads);
const maxNlist = single("max-nlist", flags["max-nlist"]);
const shared = {
  trainSize: single("train-size", flags["train-size"]),
  vectorsOnDisk: flags["vectors-on-disk"] ? true : undefined,
  ...extraOptions,
};
/** Options only the store needs at build time; those that also hold at load time go to both. */
const buildOptions = (indexType: string, more: Record<string, unknown> = {}) =>
  dropUndefined({ indexType, efConstruction: single("ef-construction", flags["ef-construction"]), ...shared, ...more });
const loadOptions = (setting: Record<string, unknown>) =>
  dropUndefined({ vectorsOnDisk: shared.vectorsOnDisk, threads: threadList?.[0], ...setting });

function spec(count: number) {
  return {
    count,
    dimension: 512,
    clusters: single("clusters", flags.clusters)!,
    chunk: single("chunk", flags.chunk)!,
    queries: single("queries", flags.queries)!,
  };
}
const RESULTS = flags.results!;
/** This command line, as the report prints it to reproduce a table. */
const COMMAND = [
  "npx tsx bench/scale.ts",
  ...process.argv.slice(2).map((a) => (/^[\w.,=/:{}-]+$/.test(a) ? a : `"${a}"`)),
].join(" ");
const common = (): Pick<RunConfig, "keep" | "reuse" | "heapMb" | "batchSeconds" | "resultsDir"> => ({
  resultsDir: RESULTS,
  keep: flags.keep,
  reuse: flags.reuse,
  heapMb: single("heap-mb", flags["heap-mb"]),
  batchSeconds: Number(flags["batch-seconds"]),
});
const countFlag = (fallback: number) => single("count", flags.count) ?? fallback;
const humanCount = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

/** The load options of each search setting the command line lists (--nprobe, --ef-search, --rerank). */
const commandLineSearches = () =>
  searchSettings({
    nprobe: integerList("nprobe", flags.nprobe),
    efSearch: integerList("ef-search", flags["ef-search"]),
    rerank: integerList("rerank", flags.rerank, true),
    cache: cacheList(flags.cache),
  }).map(loadOptions);

/** One configuration, as given on the command line. */
async function run() {
  if (!flags.index) throw new TypeError("Expected --index <faiss factory string> for run");
  const count = countFlag(100_000);
  const indexType = indexFor(flags.index, count, maxNlist);
  await runConfig({
    label: flags.label ?? `${indexType}-${humanCount(count)}`,
    spec: spec(count),
    build: buildOptions(indexType, { threads: threadList?.[0] }),
    threads: threadList?.[0],
    searches: commandLineSearches(),
    ...common(),
  });
}

/**
 * Issue 17's README table at one size: each index type with the search settings worth
 * showing for it. Each row keeps the command that measured it; rows not run are kept. --nprobe, --ef-search and --rerank replace a row's own lists where they apply.
 */
const TABLE_ROWS: { name: string; index: string; lists: Record<string, number[]> }[] = [
  { name: "Flat", index: "Flat", lists: {} },
  { name: "SQ8", index: "SQ8", lists: { rerank: [0] } },
  { name: "SQfp16", index: "SQfp16", lists: {} },
  {
    name: "OPQ-IVF-PQ",
    index: "OPQ64,IVF{nlist},PQ64",
    lists: { nprobe: [16, 32, 64], rerank: [0, 100, 200] },
  },
  { name: "HNSW32", index: "HNSW32", lists: { efSearch: [64, 128, 256, 512] } },
  { name: "HNSW32-SQ8", index: "HNSW32,SQ8", lists: { efSearch: [64, 128, 256], rerank: [0, 100] } },
];

async function table() {
  const count = countFlag(1_000_000);
  const wanted = flags.rows?.split(",").map((r) => r.trim());
  const given: Record<string, (number | string)[] | undefined> = {
    nprobe: integerList("nprobe", flags.nprobe),
    efSearch: integerList("ef-search", flags["ef-search"]),
    rerank: integerList("rerank", flags.rerank, true),
    cache: cacheList(flags.cache),
  };
  const file = join(RESULTS, "scale-table.json");
  const previous = await readJson<{ count: number; rows: Record<string, RunResult> }>(file);
  const rows = previous?.count === count ? previous.rows : {};
  for (const row of TABLE_ROWS) {
    if (wanted && !wanted.includes(row.name)) continue;
    const lists = Object.fromEntries(Object.entries(row.lists).map(([key, values]) => [key, given[key] ?? values]));
    const indexType = indexFor(row.index, count, maxNlist);
    console.log(`table, ${row.name} (${indexType}), ${humanCount(count)} vectors`);
    rows[row.name] = {
      command: COMMAND,
      ...(await attempt({
        label: `table-${humanCount(count)}-${row.name}`,
        spec: spec(count),
        build: buildOptions(indexType, { threads: threadList?.[0] }),
        threads: threadList?.[0],
        searches: searchSettings({ ...lists, cache: given.cache }).map(loadOptions),
        ...common(),
      })),
    };
    await writeJson(file, { count, command: COMMAND, rows });
  }
}

/**
 * HNSW32 built with each efConstruction, each searched at a few efSearch values. Runs at
 * other sizes or efConstructions, kept in the same file, stay: each records its command.
 */
async function efc() {
  const count = countFlag(100_000);
  const efConstructions = integerList("ef-construction", flags["ef-construction"]) ?? [40, 80, 160];
  const efSearches = integerList("ef-search", flags["ef-search"]) ?? [32, 64, 128, 256];
  const indexType = flags.index ?? "HNSW32";
  const file = join(RESULTS, "scale-efc.json");
  const previous = await readJson<{ indexType: string; command: string; runs: RunResult[] }>(file);
  const replaced = (r: RunResult) =>
    r.spec?.count === count && efConstructions.includes(r.buildOptions?.efConstruction);
  // Files written before runs recorded their own command get the file's.
  const runs: RunResult[] =
    previous?.indexType === indexType
      ? previous.runs.filter((r) => !replaced(r)).map((r) => ({ command: previous.command, ...r }))
      : [];
  for (const efConstruction of efConstructions) {
    console.log(`efConstruction ${efConstruction}, ${indexType}, ${humanCount(count)} vectors`);
    const result = await attempt({
      label: `efc-${humanCount(count)}-${indexType}-${efConstruction}`,
      spec: spec(count),
      build: dropUndefined({ ...shared, indexType, efConstruction, threads: threadList?.[0] }),
      threads: threadList?.[0],
      searches: searchSettings({ efSearch: efSearches }).map(loadOptions),
      ...common(),
    });
    runs.push({ ...result, command: COMMAND });
    runs.sort((a, b) => (a.spec?.count ?? 0) - (b.spec?.count ?? 0));
    await writeJson(file, { indexType, command: COMMAND, runs });
  }
}

/** The same build and batch search on each thread count (OpenMP), one after the other. */
async function threads() {
  const count = countFlag(100_000);
  const indexType = flags.index ?? "HNSW32";
  const counts = threadList ?? [1, 2];
  const efSearches = integerList("ef-search", flags["ef-search"]) ?? [128];
  const runs: RunResult[] = [];
  for (const t of counts) {
    console.log(`threads ${t}, ${indexType}, ${humanCount(count)} vectors`);
    runs.push(
      await attempt({
        label: `threads-${humanCount(count)}-${indexType}-${t}`,
        spec: spec(count),
        build: buildOptions(indexType, { threads: t }),
        threads: t,
        searches: searchSettings({ efSearch: efSearches }).map((s) => loadOptions({ ...s, threads: t })),
        ...common(),
      }),
    );
    await writeJson(join(RESULTS, "scale-threads.json"), { count, indexType, command: COMMAND, runs });
  }
}

/** The recommended index at growing sizes, for the cost table and plot; sizes run earlier are kept. */
async function cost() {
  const counts = integerList("counts", flags.counts) ?? [100_000, 1_000_000, 10_000_000];
  const factory = flags.index ?? "OPQ64,IVF{nlist},PQ64";
  const file = join(RESULTS, "scale-cost.json");
  const previous = await readJson<{ index: string; runs: Record<string, RunResult> }>(file);
  const runs = previous?.index === factory ? previous.runs : {};
  for (const count of counts) {
    const indexType = indexFor(factory, count, maxNlist);
    console.log(`cost, ${indexType}, ${humanCount(count)} vectors`);
    runs[count] = await attempt({
      label: `cost-${humanCount(count)}-${indexType}`,
      spec: spec(count),
      build: buildOptions(indexType, { threads: threadList?.[0] }),
      threads: threadList?.[0],
      searches: commandLineSearches(),
      ...common(),
    });
    await writeJson(file, { index: factory, command: COMMAND, runs });
  }
}

/** One configuration of a table; a failure is recorded (and the table goes on), not thrown. */
async function attempt(config: RunConfig): Promise<RunResult> {
  try {
    return await runConfig(config);
  } catch (error) {
    const message = (error as Error).message;
    console.error(`  ${config.label} failed: ${message}`);
    return { label: config.label, error: message.slice(0, 2000) };
  }
}

const commands: Record<string, () => Promise<void>> = { run, table, efc, threads, cost };
const command = positionals[0] ?? "run";
if (!commands[command])
  throw new TypeError(`Unknown command "${command}": expected one of ${Object.keys(commands).join(", ")}`);
await commands[command]();
