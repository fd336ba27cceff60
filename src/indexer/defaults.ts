/** Defaults of the folder index, in a module light enough for the CLI to load before any model code. */

/** Where the CLI keeps its index when `--index` is not given: `./.image-index`, relative to the current directory. */
export const DEFAULT_INDEX_DIR = ".image-index";

/** Default similarity for near-duplicates: re-encodes, resizes and small edits of one photo. */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.95;
