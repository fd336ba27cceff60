/** `image-embeddings serve`: the local web page over an index. */
import { Command, Option } from "commander";
import type { ModelDtype } from "../models/model_source.js";
import { displayPath, indexOption, modelOptions, positiveInteger, positiveNumber } from "./shared.js";

interface ServeCommandOptions {
  index: string;
  model?: string;
  dtype?: ModelDtype;
  host: string;
  port: number;
  maxUploadMb: number;
}

export function serveCommand(): Command {
  return new Command("serve")
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
    .addOption(modelOptions(false)[1])
    .addHelpText(
      "after",
      "\nExamples:\n  image-embeddings serve\n  image-embeddings serve --index ./photo-index --port 3000",
    )
    .action(async (options: ServeCommandOptions) => {
      const { startImageServer } = await import("../server/image_server.js");
      const running = await startImageServer({
        indexDir: options.index,
        model: options.model,
        dtype: options.dtype,
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
      const stop = () => {
        void running.close().then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}
