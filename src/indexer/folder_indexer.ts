/**
 * Incremental, crash-safe indexing of image folders into an `ImageFaissStore` saved
 * in an index folder. What the CLI's `index` command runs.
 *
 * - **One entry per content.** An entry's id is the SHA-256 of the file's bytes, and its
 *   metadata lists every path holding those bytes (`paths`, sorted; `source` is the
 *   first). A copy or a rename costs no embedding.
 * - **Incremental.** A file whose size and mtime match the stat cache (`state.ts`) is
 *   not read. Otherwise it is hashed: a known hash only records the path; an unknown
 *   one is embedded. Paths under the walked folders that are gone are removed, and an
 *   entry that has lost all its paths is deleted.
 * - **Durable.** After every batch the store is saved (atomically, see
 *   `vectorstores/persistence.ts`), then the stat cache. A kill loses at most the
 *   batch in flight, and the next run resumes: files already in the store are found
 *   by their hash and not embedded again.
 * - **A bad file never stops the run.** It is reported with its reason; if it was
 *   indexed before, its old entry is dropped (the index no longer matches the file).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Document } from "@langchain/core/documents";
import { chunkArray } from "@langchain/core/utils/chunk_array";
import type { ImageEmbeddings } from "../embeddings/image_embeddings.js";
import type { ImageFaissStore } from "../vectorstores/image_faiss_store.js";
import { lockIndex } from "./lock.js";
import { DEFAULT_INDEX_DIR } from "./defaults.js";
import { pathsOf, withPaths } from "../vectorstores/image_paths.js";
import { openImageIndex, type OpenIndexOptions } from "./open_index.js";
import { isFresh, readState, writeState } from "./state.js";
import type { IndexCounts, IndexFailure, IndexProgress, IndexSummary } from "./index_summary.js";
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

interface Outcome {
  file: FoundFile;
  hash: string;
  kind: "added" | "updated" | "unchanged";
  checkedAt: number;
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
    const { store, embeddings, manifest } = await openImageIndex(indexDir, { ...options, create: true });
    if (manifest?.dtype && options.dtype && options.dtype !== manifest.dtype) {
      // Searching with another precision is fine; storing two precisions side by side is not what anyone wants.
      throw new Error(
        `The index in ${indexDir} holds ${manifest.dtype} vectors; adding ${options.dtype} ones would mix precisions. ` +
          `Leave out --dtype (or pass ${manifest.dtype}), or index into another folder.`,
      );
    }
    const batchSize = options.batchSize ?? embeddings.batchSize;
    const run = new IndexRun(
      store,
      indexDir,
      roots.map((r) => resolve(r)),
    );
    const counts = run.counts;
    const walk = await findImageFiles(run.roots, { exclude: options.exclude, skip: [indexDir] });
    for (const problem of walk.problems) run.fail(problem.path, problem.reason);
    run.protect(walk.problems.map((p) => p.path));

    const state = await readState(indexDir);
    const toRead: FoundFile[] = [];
    for (const file of walk.files) {
      const owner = run.ownerOf(file.path);
      const cached = state.get(file.path);
      if (owner !== undefined && isFresh(cached, file.size, file.mtimeMs) && cached.hash === owner) counts.unchanged++;
      else toRead.push(file);
    }
    let done = 0;
    const report = (phase: IndexProgress["phase"]) =>
      options.onProgress?.({ phase, found: walk.files.length, total: toRead.length, done, ...counts });
    report("scanned");

    // Saved work: the store first, then the stat cache for the files it now covers.
    const saveInterval = (options.saveIntervalSeconds ?? 0) * 1000;
    let lastSave = performance.now();
    let unsaved: { batch: FoundFile[]; outcomes: Outcome[] }[] = [];
    const checkpoint = async () => {
      await run.commit();
      for (const { batch, outcomes } of unsaved) {
        const good = new Set(outcomes.map((o) => o.file));
        for (const o of outcomes)
          state.set(o.file.path, { size: o.file.size, mtimeMs: o.file.mtimeMs, hash: o.hash, checkedAt: o.checkedAt });
        for (const file of batch) if (!good.has(file)) state.delete(file.path);
      }
      if (unsaved.length > 0) await writeState(indexDir, state);
      unsaved = [];
      lastSave = performance.now();
    };

    let interrupted = false;
    for (const batch of chunkArray(toRead, batchSize)) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const outcomes = await run.indexBatch(batch, embeddings);
      for (const o of outcomes) counts[o.kind]++;
      unsaved.push({ batch, outcomes });
      if (performance.now() - lastSave >= saveInterval) await checkpoint();
      done += batch.length;
      report("indexing");
    }
    await checkpoint();

    if (!interrupted && !options.signal?.aborted) {
      const found = new Set(walk.files.map((f) => f.path));
      const removed = run.removeMissing(found);
      counts.removed += removed.length;
      // A new index is saved even when empty, so that later commands find it.
      await run.commit({ deleteOrphans: true, save: manifest === undefined });
      let pruned = removed.length > 0;
      for (const path of state.keys()) {
        if (!found.has(path) && run.isUnderRoots(path) && !run.isProtected(path)) pruned = state.delete(path) || pruned;
      }
      if (pruned) await writeState(indexDir, state);
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

/** The bookkeeping of one indexing run: which path belongs to which entry, and what changed. */
class IndexRun {
  readonly counts: IndexCounts = { added: 0, updated: 0, removed: 0, unchanged: 0, failed: 0 };
  readonly failures: IndexFailure[] = [];
  /** Entries managed by the indexer (those with a `paths` list), by id. */
  private readonly documents = new Map<string, Document>();
  private readonly owners = new Map<string, string>();
  /** Entries whose Document changed since the last commit, and vectors of new entries. */
  private readonly dirty = new Set<string>();
  private readonly newVectors = new Map<string, number[]>();
  private protectedFolders: string[] = [];
  private savedOnce = false;

  constructor(
    private readonly store: ImageFaissStore,
    private readonly indexDir: string,
    readonly roots: string[],
  ) {
    for (const { id, document } of store.entries()) {
      const paths = pathsOf(document);
      if (!paths) continue;
      this.documents.set(id, document);
      for (const path of paths) this.owners.set(path, id);
    }
  }

  ownerOf(path: string): string | undefined {
    return this.owners.get(path);
  }

  isUnderRoots(path: string): boolean {
    return this.roots.some((root) => isInside(path, root));
  }

  /** Paths under these (unreadable) folders are never treated as deleted. */
  protect(folders: string[]): void {
    this.protectedFolders = folders;
  }

  isProtected(path: string): boolean {
    return this.protectedFolders.some((folder) => isInside(path, folder));
  }

  fail(path: string, reason: string, code?: string): void {
    this.failures.push(code ? { path, reason, code } : { path, reason });
    this.counts.failed++;
  }

  /** Reads, hashes and (when the content is new) embeds one batch. Returns what happened to each good file. */
  async indexBatch(batch: FoundFile[], embeddings: Pick<ImageEmbeddings, "embedImagesSettled">): Promise<Outcome[]> {
    const read = await Promise.all(
      batch.map(async (file) => {
        try {
          const bytes = await readFile(file.path);
          return { file, bytes, hash: createHash("sha256").update(bytes).digest("hex"), checkedAt: Date.now() };
        } catch (error) {
          return { file, error: error as NodeJS.ErrnoException };
        }
      }),
    );
    const outcomes: Outcome[] = [];
    const toEmbed = new Map<string, { bytes: Buffer; files: { file: FoundFile; checkedAt: number }[] }>();
    for (const r of read) {
      const previous = this.owners.get(r.file.path);
      if (r.error) {
        this.fail(r.file.path, r.error.message, r.error.code);
        if (previous !== undefined) this.detach(r.file.path, previous);
        continue;
      }
      if (previous === r.hash) {
        outcomes.push({ file: r.file, hash: r.hash, kind: "unchanged", checkedAt: r.checkedAt });
      } else if (this.documents.has(r.hash)) {
        if (previous !== undefined) this.detach(r.file.path, previous);
        this.attach(r.file.path, r.hash);
        outcomes.push({
          file: r.file,
          hash: r.hash,
          kind: previous === undefined ? "added" : "updated",
          checkedAt: r.checkedAt,
        });
      } else {
        const group = toEmbed.get(r.hash) ?? { bytes: r.bytes!, files: [] };
        group.files.push({ file: r.file, checkedAt: r.checkedAt });
        toEmbed.set(r.hash, group);
      }
    }
    if (toEmbed.size === 0) return outcomes;

    const groups = [...toEmbed];
    const results = await embeddings.embedImagesSettled(groups.map(([, g]) => g.bytes));
    results.forEach((result, i) => {
      const [hash, group] = groups[i];
      for (const { file, checkedAt } of group.files) {
        const previous = this.owners.get(file.path);
        if (previous !== undefined) this.detach(file.path, previous);
        if (result.error) {
          this.fail(file.path, result.error.reason, result.error.code);
          continue;
        }
        if (!this.documents.has(hash)) {
          const { width, height, format } = result.image!;
          this.documents.set(hash, imageDocument(hash, [], { width, height, format }));
          this.newVectors.set(hash, result.embedding!);
        }
        this.attach(file.path, hash);
        outcomes.push({ file, hash, kind: previous === undefined ? "added" : "updated", checkedAt });
      }
    });
    return outcomes;
  }

  /** Detaches every indexed path under the roots that the walk did not find. Returns those paths. */
  removeMissing(found: Set<string>): string[] {
    const gone = [...this.owners].filter(
      ([path]) => !found.has(path) && this.isUnderRoots(path) && !this.isProtected(path),
    );
    for (const [path, id] of gone) this.detach(path, id);
    return gone.map(([path]) => path);
  }

  /**
   * Writes the changed entries to the store and saves it. An entry left with no path
   * is kept (with an empty `paths`) until `deleteOrphans`, so that content moved
   * to a file in a later batch is not embedded again.
   */
  async commit({ deleteOrphans = false, save = false } = {}): Promise<void> {
    const orphans = deleteOrphans
      ? [...this.documents].filter(([, d]) => pathsOf(d)!.length === 0).map(([id]) => id)
      : [];
    const changed = [...this.dirty].filter((id) => !orphans.includes(id));
    if (changed.length === 0 && orphans.length === 0 && !(save && !this.savedOnce)) return;
    const stored = await this.store.getVectorsById(changed);
    const vectors = changed.map((id, i) => this.newVectors.get(id) ?? stored[i]!);
    if (changed.length > 0) {
      await this.store.addVectors(
        vectors,
        changed.map((id) => this.documents.get(id)!),
        { ids: changed },
      );
    }
    if (orphans.length > 0) {
      // Every orphan was saved by an earlier commit, except content embedded and
      // orphaned within one batch, which never reached the store.
      const known = await this.store.getVectorsById(orphans);
      const ids = orphans.filter((_, i) => known[i] !== undefined);
      if (ids.length > 0) await this.store.delete({ ids });
    }
    for (const id of orphans) this.documents.delete(id);
    this.dirty.clear();
    this.newVectors.clear();
    await this.store.save(this.indexDir);
    this.savedOnce = true;
  }

  private attach(path: string, id: string): void {
    const document = this.documents.get(id)!;
    this.documents.set(id, withPaths(document, [...pathsOf(document)!, path]));
    this.owners.set(path, id);
    this.dirty.add(id);
  }

  private detach(path: string, id: string): void {
    const document = this.documents.get(id);
    if (document)
      this.documents.set(
        id,
        withPaths(
          document,
          pathsOf(document)!.filter((p) => p !== path),
        ),
      );
    if (this.owners.get(path) === id) this.owners.delete(path);
    this.dirty.add(id);
  }
}

function imageDocument(id: string, paths: string[], info: { width: number; height: number; format: string }): Document {
  return withPaths(
    new Document({ id, pageContent: "", metadata: { modality: "image", contentHash: id, ...info } }),
    paths,
  );
}
