/**
 * Incremental, crash-safe indexing of image folders into an `ImageFaissStore` saved
 * in an index folder. What the CLI's `index` command runs.
 *
 * - **One entry per content.** An entry's id is the SHA-256 of the file's bytes, and its
 *   metadata lists every path holding those bytes (`paths`, sorted; `source` is the
 *   first). A copy or a rename costs no embedding.
 * - **Incremental.** A file whose size and mtime match the stat cache (`state.ts`) is
 *   not read. Otherwise it is read and hashed, a batch at a time, and the batch is
 *   planned by `index_plan.ts` (the planner the queued path uses too): a known hash
 *   only records the path; an unknown one is embedded. Paths under the walked folders
 *   that are gone are removed (`planRemovals`, after all batches, so that a moved file
 *   finds its old entry), and an entry that has lost all its paths is deleted.
 * - **Durable.** After every batch (or every `saveIntervalSeconds`) the store is saved,
 *   then the stat cache (`index_checkpoint.ts`). A kill loses at most the work since the
 *   last save, and the next run resumes: files already in the store are found by their
 *   hash and not embedded again. Each file is read once: the bytes hashed are the bytes
 *   embedded.
 * - **A bad file never stops the run.** It is reported with its reason; if it was
 *   indexed before, its old entry is dropped (the index no longer matches the file).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { chunkArray } from "@langchain/core/utils/chunk_array";
import type { ImageEmbeddings } from "../embeddings/image_embeddings.js";
import { DEFAULT_INDEX_DIR } from "./defaults.js";
import { IndexCheckpoint, type IndexedFile } from "./index_checkpoint.js";
import { IndexEntries } from "./index_entries.js";
import { planChanges, planRemovals, type PathChange, type RemovalScope } from "./index_plan.js";
import type { IndexCounts, IndexFailure, IndexProgress, IndexSummary } from "./index_summary.js";
import { lockIndex } from "./lock.js";
import { openImageIndex, type OpenIndexOptions } from "./open_index.js";
import { isFresh, readState } from "./state.js";
import { findImageFiles, isInside, type FoundFile } from "./walk.js";

export interface IndexFoldersOptions extends Omit<OpenIndexOptions, "create"> {
  /** The index folder. Default: `".image-index"` in the current directory. */
  indexDir?: string;
  /** Glob patterns to leave out (see `WalkOptions.exclude`). Default: none. */
  exclude?: string[];
  /** Files per batch: embedded together, then saved. Default: the embeddings' batch size (16). */
  batchSize?: number;
  /**
   * Save at most this often, in seconds. `0` saves after every batch, so a kill loses
   * at most the batch in flight; but every save rewrites the whole store, which costs
   * more as the index grows (about 5 MB per 1,000 images at 512 dimensions), so for
   * tens of thousands of images an interval of 30-60 s keeps saving cheap, at the
   * price of losing up to that much work to a kill. Ctrl-C (the `signal`) still
   * saves everything done. Default: `0`.
   */
  saveIntervalSeconds?: number;
  /** Stops after the batch in flight has been saved; the summary says `interrupted: true`. */
  signal?: AbortSignal;
  /** Called after the walk, after every batch and at the end. */
  onProgress?: (progress: IndexProgress) => void;
}

interface Outcome extends IndexedFile {
  kind: PathChange | "unchanged";
}

/**
 * Indexes the image files under `roots` into the index in `options.indexDir`,
 * creating it if needed (see the file comment). Only one process may write to an
 * index at a time: a second one fails with `IndexLockedError`.
 *
 * @example
 * ```typescript
 * const summary = await indexFolders(["photos"], { indexDir: ".image-index", model: "Xenova/clip-vit-base-patch32" });
 * console.log(summary.added, summary.updated, summary.removed, summary.unchanged, summary.failed); // 120 0 0 0 1
 * ```
 */
export async function indexFolders(roots: string[], options: IndexFoldersOptions = {}): Promise<IndexSummary> {
  if (!Array.isArray(roots) || roots.length === 0) throw new TypeError("Expected at least one folder to index");
  const started = performance.now();
  const indexDir = resolve(options.indexDir ?? DEFAULT_INDEX_DIR);
  const release = await lockIndex(indexDir);
  try {
    const { store, embeddings, manifest, changesSaved } = await openImageIndex(indexDir, { ...options, create: true });
    if (manifest?.dtype && options.dtype && options.dtype !== manifest.dtype) {
      // Searching with another precision is fine; storing two precisions side by side is not what anyone wants.
      throw new Error(
        `The index in ${indexDir} holds ${manifest.dtype} vectors; adding ${options.dtype} ones would mix precisions. ` +
          `Leave out --dtype (or pass ${manifest.dtype}), or index into another folder.`,
      );
    }
    const batchSize = options.batchSize ?? embeddings.batchSize;
    const absoluteRoots = roots.map((r) => resolve(r));
    const walk = await findImageFiles(absoluteRoots, { exclude: options.exclude, skip: [indexDir] });
    const scope: RemovalScope = {
      isUnderRoots: (path) => absoluteRoots.some((root) => isInside(path, root)),
      // Paths under unreadable folders are never treated as deleted.
      isProtected: (path) => walk.problems.some((problem) => isInside(path, problem.path)),
    };
    const state = await readState(indexDir);
    const checkpoint = new IndexCheckpoint(store, indexDir, state, options.saveIntervalSeconds ?? 0);
    const entries = new IndexEntries(store.entries(), (id, document) => checkpoint.entryChanged(id, document));
    const run = new IndexRun(entries, checkpoint);
    const counts = run.counts;
    for (const problem of walk.problems) run.fail(problem.path, problem.reason);

    const toRead: FoundFile[] = [];
    for (const file of walk.files) {
      const owner = entries.ownerOf(file.path);
      const cached = state.get(file.path);
      if (owner !== undefined && isFresh(cached, file.size, file.mtimeMs) && cached.hash === owner) counts.unchanged++;
      else toRead.push(file);
    }
    let done = 0;
    const report = (phase: IndexProgress["phase"]) =>
      options.onProgress?.({ phase, found: walk.files.length, total: toRead.length, done, ...counts });
    report("scanned");

    let interrupted = false;
    for (const batch of chunkArray(toRead, batchSize)) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      await run.indexBatch(batch, embeddings);
      await checkpoint.saveIfDue();
      done += batch.length;
      report("indexing");
    }
    await checkpoint.save();

    if (!interrupted && !options.signal?.aborted) {
      const found = new Set(walk.files.map((f) => f.path));
      const removed = planRemovals(entries.paths(), found, scope);
      for (const path of removed) entries.detach(path);
      counts.removed += removed.length;
      await checkpoint.finish({
        orphans: entries.orphans(),
        removedPaths: planRemovals(state.keys(), found, scope),
        // A new index is saved even when empty, so that later commands find it; one given
        // new search parameters or vector placement is saved even when no file changed.
        saveUnchanged: manifest === undefined || changesSaved,
      });
    } else {
      interrupted = true;
    }
    report("done");
    return {
      indexDir,
      model: embeddings.model,
      found: walk.files.length,
      entries: store.size,
      ...counts,
      failures: run.failures,
      interrupted,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await release();
  }
}

/** One run's batches: read, plan (`planChanges`), embed, and apply to the entries; with the counts and failures. */
class IndexRun {
  readonly counts: IndexCounts = { added: 0, updated: 0, removed: 0, unchanged: 0, failed: 0 };
  readonly failures: IndexFailure[] = [];

  constructor(
    private readonly entries: IndexEntries,
    private readonly checkpoint: IndexCheckpoint,
  ) {}

  fail(path: string, reason: string, code?: string): void {
    this.failures.push(code ? { path, reason, code } : { path, reason });
    this.counts.failed++;
  }

  /**
   * Reads and hashes one batch, embeds its new contents, and records the outcome of
   * each file. A file that cannot be read or embedded is reported, and its path taken
   * off its old entry (the index no longer matches the file).
   */
  async indexBatch(batch: FoundFile[], embeddings: Pick<ImageEmbeddings, "embedImagesSettled">): Promise<void> {
    const read = new Map<string, ReadFile>();
    for (const r of await readFiles(batch)) {
      if ("error" in r) {
        this.fail(r.file.path, r.error.message, r.error.code);
        this.entries.detach(r.file.path);
      } else {
        read.set(r.file.path, r);
      }
    }
    const plan = planChanges({
      files: [...read.values()].map((r) => ({ path: r.file.path, hash: r.hash })),
      storedHashOf: (path) => this.entries.ownerOf(path),
      isKnown: (hash) => this.entries.has(hash),
    });
    const outcomes: Outcome[] = [];
    const record = (path: string, kind: Outcome["kind"]) => {
      const { file, hash, checkedAt } = read.get(path)!;
      outcomes.push({ file, hash, checkedAt, kind });
    };
    for (const path of plan.unchanged) record(path, "unchanged");
    for (const path of plan.detach) this.entries.detach(path);
    for (const { hash, path, kind } of plan.attach) {
      this.entries.attach(path, hash);
      record(path, kind);
    }
    if (plan.embed.length > 0) {
      const kinds = new Map(plan.embedKinds);
      const results = await embeddings.embedImagesSettled(plan.embed.map((item) => read.get(item.paths[0])!.bytes));
      results.forEach((result, i) => {
        const { hash, paths } = plan.embed[i];
        for (const path of paths) {
          if (result.error) {
            this.fail(path, result.error.reason, result.error.code);
            continue;
          }
          if (!this.entries.has(hash)) {
            const { width, height, format } = result.image!;
            this.entries.create(hash, { width, height, format });
            this.checkpoint.entryEmbedded(hash, result.embedding!);
          }
          this.entries.attach(path, hash);
          record(path, kinds.get(path)!);
        }
      });
    }
    for (const o of outcomes) this.counts[o.kind]++;
    this.checkpoint.batchDone(batch, outcomes);
  }
}

interface ReadFile extends IndexedFile {
  bytes: Buffer;
}

/** Reads and hashes the files of a batch, all at once; a file that cannot be read comes back with its error. */
function readFiles(batch: FoundFile[]): Promise<(ReadFile | { file: FoundFile; error: NodeJS.ErrnoException })[]> {
  return Promise.all(
    batch.map(async (file) => {
      try {
        const bytes = await readFile(file.path);
        return { file, bytes, hash: createHash("sha256").update(bytes).digest("hex"), checkedAt: Date.now() };
      } catch (error) {
        return { file, error: error as NodeJS.ErrnoException };
      }
    }),
  );
}
