/** `image-embeddings serve`: the local web page over an index. */
import { Command, Option } from "commander";
import type { ModelDtype } from "../models/model_source.js";
import { checkFaissOptions, searchOptions, storeSettings, type FaissCommandOptions } from "./faiss_options.js";
import { formatDuration } from "./progress.js";
import {
  addOptions,
  displayPath,
  formatCount,
  indexOption,
  modelOptions,
  positiveInteger,
  positiveNumber,
} from "./shared.js";

interface ServeCommandOptions extends FaissCommandOptions {
  index: string;
  model?: string;
  dtype?: ModelDtype;
  host: string;
  port: number;
  maxUploadMb: number;
  prefetch: boolean;
}

export function serveCommand(): Command {
  const command = new Command("serve")
    .summary("browse and search the index in a local web page")
    .description(
      "Serve a web page to search the index: a search box, drag-and-drop or upload of a query image, a grid of " +
        'thumbnails with scores, "more like this" on each result, and a duplicates view. Only indexed images are ' +
        "served, nothing is fetched from other sites, and the page works offline. Picks up re-indexing while running.",
    )
    .addOption(indexOption())
    .addOption(
      new Option("--host <address>", "interface to listen on; 0.0.0.0 exposes the index to your network").default(
        "127.0.0.1",
      ),
    )
    .addOption(
      new Option("--port <n>", "port (0: any free port)")
        .argParser((v: string) => (v === "0" ? 0 : positiveInteger("--port")(v)))
        .default(8080),
    )
    .addOption(
      new Option("--max-upload-mb <n>", "largest query image upload, in MiB")
        .argParser(positiveNumber("--max-upload-mb"))
        .default(20),
    )
    .addOption(modelOptions(false)[0])
    .addOption(modelOptions(false)[1]);
  return addOptions(command, searchOptions())
    .addOption(
      new Option(
        "--no-prefetch",
        "with vectors on disk: do not read the vector files into the page cache in the background after starting",
      ),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  image-embeddings serve\n  image-embeddings serve --index ./photo-index --port 3000\n" +
        "  image-embeddings serve --index ./big-index --vectors-on-disk --nprobe 32 --rerank 200\n" +
        "\nWith vectors on disk, the server starts at once and then reads the vector files once, in the background,\n" +
        "so that re-ranking finds them in the page cache (skip it with --no-prefetch when RAM cannot hold them).",
    )
    .action(async (options: ServeCommandOptions) => {
      await checkFaissOptions(options.index, options);
      const { startImageServer } = await import("../server/image_server.js");
      const running = await startImageServer({
        indexDir: options.index,
        model: options.model,
        dtype: options.dtype,
        store: storeSettings(options),
        host: options.host,
        port: options.port,
        maxUploadBytes: Math.round(options.maxUploadMb * 1024 * 1024),
      });
      if (options.host !== "127.0.0.1" && options.host !== "localhost" && options.host !== "::1") {
        process.stderr.write(
          `Listening on ${options.host}: anyone who can reach this machine can search and view the indexed images.\n`,
        );
      }
      process.stdout.write(`Serving ${displayPath(options.index)} at ${running.url} (Ctrl-C to stop)\n`);
      if (running.vectorsOnDisk && options.prefetch) prefetchInBackground(running.prefetchVectors);
      const stop = () => {
        void running.close().then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}

/** Reads the vector files into the page cache while the server already answers; logs the start and the outcome. */
function prefetchInBackground(prefetch: () => Promise<number>): void {
  const started = performance.now();
  process.stderr.write("Prefetching the vector files into the page cache in the background...\n");
  prefetch().then(
    (bytes) => {
      const seconds = (performance.now() - started) / 1000;
      const took = seconds < 60 ? `${seconds.toFixed(1)}s` : formatDuration(seconds);
      const mib = (bytes / 2 ** 20).toFixed(1);
      process.stderr.write(`Prefetched ${mib} MiB (${formatCount(bytes)} bytes) of vectors in ${took}.\n`);
    },
    (error: unknown) => {
      // Searches still work, reading each vector from disk when needed.
      process.stderr.write(`Prefetching the vectors failed (searches read them from disk): ${String(error)}\n`);
    },
  );
}
