/**
 * Thumbnails for the web page, made with sharp and cached on disk by content hash.
 * A thumbnail is made from the first indexed path whose bytes still hash to the
 * entry's id, so an edited file never gets served under its old entry (or cached as it).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadSharp } from "../utils/imports.js";

const HASH_ID = /^[0-9a-f]{64}$/;

export interface VerifiedFile {
  path: string;
  bytes: Buffer;
}

/**
 * The bytes of an entry's image, read from the first of `paths` that holds them. When
 * the id is a content hash (the folder indexer's ids), the bytes must hash to it.
 */
export async function readIndexedFile(id: string, paths: string[]): Promise<VerifiedFile | undefined> {
  const verify = HASH_ID.test(id);
  for (const path of paths) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      continue;
    }
    if (!verify || createHash("sha256").update(bytes).digest("hex") === id) return { path, bytes };
  }
  return undefined;
}

export class ThumbnailCache {
  private readonly pending = new Map<string, Promise<Buffer | undefined>>();
  private writable = true;

  constructor(
    /** Folder of cached thumbnails (created on first use); writes that fail are skipped. */
    readonly directory: string,
    /** Longest side in pixels. */
    readonly size: number,
    readonly maxInputPixels = 100_000_000,
  ) {}

  /** The WebP thumbnail of an entry, or undefined when none of its paths holds its image. */
  get(id: string, paths: string[]): Promise<Buffer | undefined> {
    let job = this.pending.get(id);
    if (!job) {
      job = this.load(id, paths).finally(() => this.pending.delete(id));
      this.pending.set(id, job);
    }
    return job;
  }

  /** Deletes cached thumbnails of entries that are no longer indexed. Best effort. */
  async prune(liveIds: Iterable<string>): Promise<void> {
    const live = new Set([...liveIds].map((id) => this.fileName(id)));
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return;
    }
    await Promise.all(
      names.filter((n) => n.endsWith(".webp") && !live.has(n)).map((n) => rm(join(this.directory, n), { force: true })),
    );
  }

  private async load(id: string, paths: string[]): Promise<Buffer | undefined> {
    const file = join(this.directory, this.fileName(id));
    const cached = await readFile(file).catch(() => undefined);
    if (cached) return cached;
    const source = await readIndexedFile(id, paths);
    if (!source) return undefined;
    const sharp = await loadSharp();
    const thumbnail = await sharp(source.bytes, { limitInputPixels: this.maxInputPixels, animated: false })
      .rotate()
      .resize(this.size, this.size, { fit: "inside", withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    if (this.writable) {
      try {
        await mkdir(this.directory, { recursive: true });
        const temp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
        await writeFile(temp, thumbnail);
        await rename(temp, file);
      } catch {
        this.writable = false; // a read-only index folder: thumbnails are made on every request instead
      }
    }
    return thumbnail;
  }

  private fileName(id: string): string {
    const key = HASH_ID.test(id) ? id : createHash("sha256").update(id).digest("hex");
    return `${key}-${this.size}.webp`;
  }
}
