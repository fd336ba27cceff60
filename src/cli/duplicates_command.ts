/** `image-embeddings duplicates`: groups of near-identical images, from the stored vectors (no model needed). */
import { Command, Option } from "commander";
import { DEFAULT_DUPLICATE_THRESHOLD } from "../indexer/defaults.js";
import type { IndexDuplicateGroup } from "../indexer/search.js";
import { storeSettings, vectorPlacementOptions } from "./faiss_options.js";
import { addOptions, displayPath, formatCount, indexOption, jsonOption, printJson, similarity } from "./shared.js";

interface DuplicatesCommandOptions {
  index: string;
  vectorsOnDisk?: boolean;
  threshold: number;
  json?: boolean;
}

export function duplicatesCommand(): Command {
  const command = new Command("duplicates")
    .summary("list groups of near-duplicate images")
    .description(
      "List groups of images whose vectors are at least --threshold similar (cosine), linked transitively, " +
        "plus byte-identical files at several paths. Uses only the stored vectors: the model is not loaded. " +
        "Compares every pair: about 1 s for 2,000 images, growing with the square of the count.",
    )
    .addOption(
      new Option("--threshold <score>", "cosine similarity from which two images count as duplicates")
        .argParser(similarity("--threshold"))
        .default(DEFAULT_DUPLICATE_THRESHOLD),
    )
    .addOption(jsonOption())
    .addOption(indexOption());
  // Only where the vectors are read from: pairs are compared exactly, without faiss searches to tune.
  return addOptions(command, vectorPlacementOptions())
    .addHelpText(
      "after",
      "\nExamples:\n  image-embeddings duplicates\n  image-embeddings duplicates --threshold 0.9 --json",
    )
    .action(async (options: DuplicatesCommandOptions) => {
      if (!(options.threshold > -1)) throw new Error("--threshold must be above -1");
      const { openIndexVectors } = await import("../indexer/open_index.js");
      const { duplicateGroups } = await import("../indexer/search.js");
      const { store } = await openIndexVectors(options.index, { store: storeSettings(options) });
      const groups = duplicateGroups(store, options.threshold);
      if (options.json) printJson({ threshold: options.threshold, groups });
      else process.stdout.write(`${formatGroups(groups, options.threshold)}\n`);
    });
}

export function formatGroups(groups: IndexDuplicateGroup[], threshold: number): string {
  if (groups.length === 0) return `No duplicates at similarity >= ${threshold}.`;
  const lines: string[] = [];
  groups.forEach((g, i) => {
    const [low, high] = [g.minSimilarity.toFixed(3), g.maxSimilarity.toFixed(3)];
    const range = low === high ? low : `${low}-${high}`;
    lines.push(`Group ${i + 1}: ${g.files} files, similarity ${range}`);
    for (const image of g.images) {
      image.paths.forEach((p, j) => lines.push(`  ${j === 0 ? "" : "= "}${displayPath(p)}`));
    }
  });
  const files = groups.reduce((n, g) => n + g.files, 0);
  const copies = groups.some((g) => g.images.some((image) => image.paths.length > 1));
  lines.push(
    `${formatCount(groups.length)} ${groups.length === 1 ? "group" : "groups"}, ${formatCount(files)} files` +
      (copies ? ' ("=" marks a byte-identical copy of the line above).' : "."),
  );
  return lines.join("\n");
}
