/**
 * What an indexing run reports, the same for the folder indexer (`indexFolders`) and the
 * queued one (`indexFoldersQueued`): counts, progress events, failures and the summary.
 */

export interface IndexCounts {
  /** Paths indexed for the first time. */
  added: number;
  /** Indexed paths whose content changed. */
  updated: number;
  /** Indexed paths that are gone (deleted, or now excluded). */
  removed: number;
  /** Indexed paths with the same content as before. */
  unchanged: number;
  /** Files (or folders) that could not be indexed; see `failures`. */
  failed: number;
}

export interface IndexProgress extends IndexCounts {
  phase: "scanned" | "indexing" | "done";
  /** Image files found by the walk. */
  found: number;
  /** Files that must be read this run (new, changed, or not seen unchanged since their last write). */
  total: number;
  /** Of `total`, how many are done. */
  done: number;
}

export interface IndexFailure {
  path: string;
  reason: string;
  /** `ImageInputError` code (CORRUPT_IMAGE, UNSUPPORTED_FORMAT, TOO_LARGE, ...) or a file system error code. */
  code?: string;
}

export interface IndexSummary extends IndexCounts {
  /** Absolute path of the index folder. */
  indexDir: string;
  model: string;
  /** Image files found by the walk. */
  found: number;
  /** Entries (distinct contents) in the index afterwards. */
  entries: number;
  failures: IndexFailure[];
  /** True when `signal` stopped the run early; run again to finish. */
  interrupted: boolean;
  seconds: number;
}
