/**
 * Row ids. The `PGVectorStore` layout keys rows by uuid, so an image's content hash (the
 * id `ImageFaissStore` and `addImagesToStore` use by default) becomes the UUID made from
 * it: the same image is always the same row.
 */
import { uuidFromContentHash } from "../image_documents.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256 = /^[0-9a-f]{64}$/i;

/** The row id for `id`: a UUID as is (lower case), a SHA-256 content hash as its UUID. */
export function toRowId(id: string): string {
  if (typeof id === "string" && UUID.test(id)) return id.toLowerCase();
  if (typeof id === "string" && SHA256.test(id)) return uuidFromContentHash(id);
  throw new TypeError(
    `Expected a UUID or a SHA-256 content hash (64 hex digits) for an id but received ${JSON.stringify(id)}: ` +
      `the PGVectorStore table layout keys rows by uuid`,
  );
}
