/**
 * What the folder indexer has done but not saved yet, and when it saves it.
 *
 * A save writes the changed entries into the store and saves it (atomically, see
 * `vectorstores/persistence.ts`), then records the files of the batches it covers in the
 * stat cache (`state.ts`). In that order, a kill between the two costs a re-hash, never a
 * wrong index. Saves happen after each batch, or at most every `saveIntervalSeconds`
 * (`saveIfDue`), and always at the end (`save`, `finish`).
 */
import type { Document } from "@langchain/core/documents";
import type { ImageFaissStore } from "../vectorstores/image_faiss_store.js";
import { writeState, type IndexerState } from "./state.js";
import type { FoundFile } from "./walk.js";

/** A file read and hashed in a batch, whose content the index now holds at its path. */
export interface IndexedFile {
  file: FoundFile;
  hash: string;
  /** When it was hashed (ms since the epoch), for the stat cache. */
  checkedAt: number;
}

export class IndexCheckpoint {
  /** Entries whose Document changed since the last save, with their latest Document. */
  private readonly dirty = new Map<string, Document>();
  /** Vectors of entries embedded since the last save (not in the store yet). */
  private readonly newVectors = new Map<string, number[]>();
  /** Batches done since the last save; their files reach the stat cache once the store holding them is saved. */
  private unsaved: { batch: FoundFile[]; indexed: IndexedFile[] }[] = [];
  private savedOnce = false;
  private lastSave = performance.now();
  private readonly intervalMs: number;

  constructor(
    private readonly store: ImageFaissStore,
    private readonly indexDir: string,
    private readonly state: IndexerState,
    saveIntervalSeconds: number,
  ) {
    this.intervalMs = saveIntervalSeconds * 1000;
  }

  entryChanged(id: string, document: Document): void {
    this.dirty.set(id, document);
  }

  entryEmbedded(id: string, vector: number[]): void {
    this.newVectors.set(id, vector);
  }

  /** Records a finished batch: `indexed` are its files the index now holds; the rest are forgotten by the stat cache. */
  batchDone(batch: FoundFile[], indexed: IndexedFile[]): void {
    this.unsaved.push({ batch, indexed });
  }

  /** Saves when the interval has passed since the last save (always, with an interval of 0). */
  async saveIfDue(): Promise<void> {
    if (performance.now() - this.lastSave >= this.intervalMs) await this.save();
  }

  /** Saves the changed entries (if any), then the stat cache of the batches done since the last save. */
  async save(): Promise<void> {
    await this.writeStore();
    for (const { batch, indexed } of this.unsaved) {
      const good = new Set(indexed.map((i) => i.file));
      for (const { file, hash, checkedAt } of indexed)
        this.state.set(file.path, { size: file.size, mtimeMs: file.mtimeMs, hash, checkedAt });
      for (const file of batch) if (!good.has(file)) this.state.delete(file.path);
    }
    if (this.unsaved.length > 0) await writeState(this.indexDir, this.state);
    this.unsaved = [];
    this.lastSave = performance.now();
  }

  /**
   * The end of a complete run, after `save`: deletes the `orphans` (entries left with no
   * path), saves the store (even an empty or unchanged one, with `saveUnchanged`, unless this
   * run saved it already), and drops the stat cache's entries for `removedPaths`.
   */
  async finish({
    orphans,
    removedPaths,
    saveUnchanged,
  }: {
    orphans: string[];
    removedPaths: string[];
    saveUnchanged: boolean;
  }): Promise<void> {
    await this.writeStore({ orphans, saveUnchanged });
    let pruned = false;
    for (const path of removedPaths) pruned = this.state.delete(path) || pruned;
    if (pruned) await writeState(this.indexDir, this.state);
  }

  /**
   * Writes the changed entries and saves the store. An entry left with no path is
   * written as such (an empty `paths`) until `finish` deletes it, so that content
   * moved to a file in a later batch is not embedded again.
   */
  private async writeStore({
    orphans = [],
    saveUnchanged = false,
  }: { orphans?: string[]; saveUnchanged?: boolean } = {}) {
    const deleted = new Set(orphans);
    const changed = [...this.dirty.keys()].filter((id) => !deleted.has(id));
    if (changed.length === 0 && orphans.length === 0 && !(saveUnchanged && !this.savedOnce)) return;
    if (changed.length > 0) {
      const stored = await this.store.getVectorsById(changed);
      const vectors = changed.map((id, i) => this.newVectors.get(id) ?? stored[i]!);
      await this.store.addVectors(
        vectors,
        changed.map((id) => this.dirty.get(id)!),
        { ids: changed },
      );
    }
    if (orphans.length > 0) {
      // Every orphan was saved by an earlier save, except content embedded and
      // orphaned since the last one, which never reached the store.
      const known = await this.store.getVectorsById(orphans);
      const ids = orphans.filter((_, i) => known[i] !== undefined);
      if (ids.length > 0) await this.store.delete({ ids });
    }
    this.dirty.clear();
    this.newVectors.clear();
    await this.store.save(this.indexDir);
    this.savedOnce = true;
  }
}
