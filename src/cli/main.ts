#!/usr/bin/env node
/**
 * The `image-embeddings` command: index folders of images, search them by text or
 * image, list near-duplicates, browse them in a local web page, and train a
 * projection head. Each command is a thin shell around the library (`src/indexer/`,
 * `src/server/`, `src/training/`), one file each.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { duplicatesCommand } from "./duplicates_command.js";
import { indexCommand } from "./index_command.js";
import { searchCommand } from "./search_command.js";
import { serveCommand } from "./serve_command.js";
import { trainCommand } from "./train_command.js";
import { workerCommand } from "./worker_command.js";
import { INDEX_ENV } from "./shared.js";

export function buildProgram(): Command {
  const program = new Command("image-embeddings")
    .description("Search folders of images by text or by image with CLIP, locally (langchain-image-embeddings).")
    .version(packageVersion(), "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
The index lives in ./.image-index (relative to the current folder) unless --index <dir>
or $${INDEX_ENV} says otherwise. It remembers its model: only \`index\` needs --model, once.

Examples:
  image-embeddings index ~/Pictures
  image-embeddings search "a dog on a beach"
  image-embeddings search --image ~/Pictures/beach.jpg -k 5
  image-embeddings duplicates
  image-embeddings serve
  image-embeddings train ./catalogue --out head.json`,
    );
  for (const command of [
    indexCommand(),
    searchCommand(),
    duplicatesCommand(),
    serveCommand(),
    trainCommand(),
    workerCommand(),
  ]) {
    program.addCommand(command.showHelpAfterError("(run with --help for usage)"));
  }
  return program;
}

/** The package's version, from the package.json above this file (in src/ or in dist/). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "langchain-image-embeddings" && pkg.version) return pkg.version;
    } catch {
      // not here: look one folder up
    }
  }
  return "unknown";
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    if (error instanceof Error && error.name === "ModelLoadError") {
      process.stderr.write(
        "With this command: pass --model <folder> for a model on disk, or a Hub id on a machine with internet access.\n",
      );
    }
    if (process.env.DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}

await main();
