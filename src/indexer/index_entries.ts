/**
 * The folder indexer's view of the entries it manages (those with a `paths` list): each
 * content's Document by id, and which entry holds each path. Every change to a Document
 * is passed to `onChange`, so that the checkpoint (`index_checkpoint.ts`) writes it.
 */
import { Document } from "@langchain/core/documents";
import { pathsOf, withPaths } from "../vectorstores/image_paths.js";

export interface ImageInfo {
  width: number;
  height: number;
  format: string;
}

export class IndexEntries {
  private readonly documents = new Map<string, Document>();
  private readonly owners = new Map<string, string>();

  constructor(
    stored: Iterable<{ id: string; document: Document }>,
    private readonly onChange: (id: string, document: Document) => void,
  ) {
    for (const { id, document } of stored) {
      const paths = pathsOf(document);
      if (!paths) continue;
      this.documents.set(id, document);
      for (const path of paths) this.owners.set(path, id);
    }
  }

  /** The id (content hash) of the entry holding `path`. */
  ownerOf(path: string): string | undefined {
    return this.owners.get(path);
  }

  /** Whether an entry holds this content, with paths or (until the run ends) without. */
  has(id: string): boolean {
    return this.documents.has(id);
  }

  /** Every path some entry holds. */
  paths(): IterableIterator<string> {
    return this.owners.keys();
  }

  /** A new entry for embedded content, with no paths yet. */
  create(id: string, info: ImageInfo): void {
    const document = new Document({ id, pageContent: "", metadata: { modality: "image", contentHash: id, ...info } });
    this.documents.set(id, withPaths(document, []));
  }

  attach(path: string, id: string): void {
    const document = this.documents.get(id)!;
    this.update(id, withPaths(document, [...pathsOf(document)!, path]));
    this.owners.set(path, id);
  }

  /** Takes `path` off the entry holding it, if any. The entry stays, maybe with no paths, until `orphans()` is deleted. */
  detach(path: string): void {
    const id = this.owners.get(path);
    if (id === undefined) return;
    const document = this.documents.get(id)!;
    this.update(
      id,
      withPaths(
        document,
        pathsOf(document)!.filter((p) => p !== path),
      ),
    );
    this.owners.delete(path);
  }

  /** Ids of entries left with no path. */
  orphans(): string[] {
    return [...this.documents].filter(([, d]) => pathsOf(d)!.length === 0).map(([id]) => id);
  }

  private update(id: string, document: Document): void {
    this.documents.set(id, document);
    this.onChange(id, document);
  }
}
