/** `image-embeddings search`: text, image and query-arithmetic search over an index. */
import { Command, Option } from "commander";
import type { ModelDtype } from "../models/model_source.js";
import type { SearchHit } from "../indexer/search.js";
import { parseQueryString, type MultimodalQuery } from "../retrievers/query.js";
import {
  checkFaissOptions,
  givenFlags,
  searchOptions,
  storeSettings,
  type FaissCommandOptions,
} from "./faiss_options.js";
import {
  addOptions,
  displayPath,
  formatTable,
  indexOption,
  jsonOption,
  modelOptions,
  positiveInteger,
  printJson,
  similarity,
} from "./shared.js";
import { storeOption, tableOption } from "./store_options.js";

interface SearchCommandOptions extends FaissCommandOptions {
  index: string;
  store?: string;
  table: string;
  model?: string;
  dtype?: ModelDtype;
  image?: string;
  k: number;
  threshold?: number;
  json?: boolean;
}

export function searchCommand(): Command {
  const command = new Command("search")
    .summary("find images by text, by image, or by query arithmetic")
    .description(
      'Search the index. The query is a description, or query arithmetic: terms joined by " + " and " - " ' +
        "(with spaces), optional weights like 0.5*snow, and images as image:<path or URL>. " +
        "With --image, that image is the query; any text given as well is added to it.",
    )
    .argument("[query...]", 'what to look for, e.g. "a dog on a beach" or "image:photo.jpg + snow - people"')
    .addOption(new Option("--image <path|url>", "query image: a file or an http(s) URL"))
    .addOption(new Option("-k, --k <n>", "number of results").argParser(positiveInteger("-k")).default(10))
    .addOption(
      new Option("--threshold <score>", "leave out results below this cosine similarity (-1 to 1)").argParser(
        similarity("--threshold"),
      ),
    )
    .addOption(jsonOption())
    .addOption(indexOption())
    .addOption(storeOption())
    .addOption(tableOption())
    .addOption(modelOptions(false)[0])
    .addOption(modelOptions(false)[1]);
  return addOptions(command, searchOptions())
    .addHelpText(
      "after",
      "\nScores are cosine similarities (higher is closer). With real CLIP models, good text-to-image\n" +
        "matches score about 0.2-0.35; image-to-image scores are higher.\n" +
        "\nExamples:\n" +
        '  image-embeddings search "a dog on a beach"\n' +
        "  image-embeddings search --image photos/cat.jpg -k 5\n" +
        '  image-embeddings search "image:photos/beach.jpg + snow - people" --json\n' +
        '  image-embeddings search --image photos/beach.jpg "sunset"\n' +
        '  image-embeddings search "a dog on a beach" --nprobe 32 --rerank 200\n' +
        '  image-embeddings search "a dog on a beach" --store postgres://me@db:5432/photos\n' +
        "\n--ef-search, --nprobe, --rerank, --threads and --vectors-on-disk apply to this search only: the index\n" +
        "keeps the defaults it was saved with (set them with `image-embeddings index --ef-search/--nprobe`).",
    )
    .action(async (words: string[], options: SearchCommandOptions) => runSearch(words.join(" ").trim(), options));
}

async function runSearch(text: string, options: SearchCommandOptions): Promise<void> {
  const query = buildQuery(text, options.image);
  const { searchIndex } = await import("../indexer/search.js");
  const { store, embeddings, close } = options.store
    ? await openStoreForSearch(options.store, options)
    : await openFolderForSearch(options);
  try {
    const hits = await searchIndex(store, query, { k: options.k, threshold: options.threshold });
    if (options.json) printJson({ query: text || null, image: options.image ?? null, results: hits });
    else process.stdout.write(`${formatHits(hits)}\n`);
  } finally {
    await close();
    await embeddings.dispose();
  }
}

async function openFolderForSearch(options: SearchCommandOptions) {
  await checkFaissOptions(options.index, options);
  const { openImageIndex } = await import("../indexer/open_index.js");
  const { store, embeddings } = await openImageIndex(options.index, {
    model: options.model,
    dtype: options.dtype,
    store: storeSettings(options),
  });
  return { store, embeddings, close: async () => undefined };
}

/** The pgvector store at `url`, with the model it records (or --model, which must be the same). */
async function openStoreForSearch(url: string, options: SearchCommandOptions) {
  if (givenFlags(options).length > 0) {
    throw new Error(`${givenFlags(options).join(", ")}: FAISS options, for an --index folder, not for --store`);
  }
  const { readPgvectorStoreModel } = await import("../vectorstores/pgvector/store_model.js");
  const { PgvectorImageStore } = await import("../vectorstores/pgvector/pgvector_image_store.js");
  const { ImageEmbeddings } = await import("../embeddings/image_embeddings.js");
  const { redactUrl } = await import("../vectorstores/pgvector/connection.js");
  const model = options.model ?? (await readPgvectorStoreModel(url, { tableName: options.table }))?.model;
  if (!model) throw new Error(`Nothing to search: table ${options.table} in ${redactUrl(url)} holds no images yet`);
  const embeddings = new ImageEmbeddings({ model, dtype: options.dtype });
  const store = await PgvectorImageStore.initialize(embeddings, {
    connectionString: url,
    tableName: options.table,
    hnswIndexAt: Infinity,
  });
  return { store, embeddings, close: () => store.end() };
}

function buildQuery(text: string, image: string | undefined): MultimodalQuery {
  if (!text && !image) throw new Error('Nothing to search for: give a query ("a red car") or --image <path|url>');
  if (!image) return text;
  if (!text) return { image };
  return { terms: [{ image, weight: 1 }, ...parseQueryString(text)] };
}

/** Rank, score and path; an image stored at several paths lists the others below it. */
export function formatHits(hits: SearchHit[]): string {
  if (hits.length === 0) return "No results.";
  const rows = hits.flatMap((h) => [
    [String(h.rank), h.score.toFixed(3), displayPath(h.path)],
    ...h.paths.slice(1).map((p) => ["", "", `  = ${displayPath(p)}`]),
  ]);
  return formatTable(["rank", "score", "path"], rows, [true, true]);
}
