/**
 * readWholeFile: what a store's load reads its vectors and faiss index with. fs.readFile
 * refuses files over 2 GiB, and a saved HNSW index of a million 512-d vectors is 2.3 GB.
 */
import { open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readWholeFile } from "../../src/vectorstores/persistence.js";
import { tempDir } from "../helpers/fixtures.js";

describe("readWholeFile", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(async () => cleanup());

  it("reads a file in pieces into the same bytes, and an empty file as an empty Buffer", async () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) % 256));
    await writeFile(join(dir, "small.bin"), bytes);
    expect((await readWholeFile(join(dir, "small.bin"), 7)).equals(bytes)).toBe(true);
    expect((await readWholeFile(join(dir, "small.bin"))).equals(bytes)).toBe(true);
    await writeFile(join(dir, "empty.bin"), "");
    expect(await readWholeFile(join(dir, "empty.bin"))).toHaveLength(0);
    await expect(readWholeFile(join(dir, "missing.bin"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("reads a file over 2 GiB, which fs.readFile refuses", async () => {
    // Sparse: 2 GiB + 16 bytes on disk costs nothing, with a marker at each end.
    const path = join(dir, "big.bin");
    const size = 2 ** 31 + 16;
    const handle = await open(path, "w");
    await handle.write(Buffer.from("head"), 0, 4, 0);
    await handle.write(Buffer.from("tail"), 0, 4, size - 4);
    await handle.close();
    await expect(readFile(path)).rejects.toMatchObject({ code: "ERR_FS_FILE_TOO_LARGE" });
    const read = await readWholeFile(path);
    expect(read.length).toBe(size);
    expect(read.subarray(0, 4).toString()).toBe("head");
    expect(read.subarray(size - 4).toString()).toBe("tail");
    expect(read[2 ** 30 + 12345]).toBe(0);
  }, 60_000);
});
