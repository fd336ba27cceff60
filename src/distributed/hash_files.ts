/** SHA-256 of many files' bytes, a few read at a time; unreadable files are reported, not thrown. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { IndexFailure } from "../indexer/index_summary.js";

/** Files read at once: enough to keep a disk (or a network mount) busy. */
const PARALLEL_READS = 16;

export async function hashFiles(
  paths: string[],
): Promise<{ files: { path: string; hash: string }[]; failures: IndexFailure[] }> {
  const files: { path: string; hash: string }[] = [];
  const failures: IndexFailure[] = [];
  let next = 0;
  const reader = async () => {
    while (next < paths.length) {
      const path = paths[next++];
      try {
        files.push({ path, hash: await hashFile(path) });
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        failures.push(e.code ? { path, reason: e.message, code: e.code } : { path, reason: e.message });
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_READS }, reader));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, failures };
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}
