/** The streamed docstore: round trips past one positions line, refuses a truncated file, and reads the old format. */
import { readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  readEntries,
  readLegacyEntries,
  writeEntries,
  type SavedDocument,
} from "../../src/vectorstores/docstore_file.js";
import { tempDir } from "../helpers/fixtures.js";

describe("docstore file", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  // 25,000 positions span three positions lines; every fifth one deleted.
  const positions = Array.from({ length: 25_000 }, (_, i) => (i % 5 === 4 ? null : `id-${i}`));
  const documents: SavedDocument[] = positions
    .filter((id): id is string => id !== null)
    .map((id, i) => ({
      id,
      pageContent: i === 0 ? 'line one\nline "two" ✓' : "",
      metadata: { paths: [`/photos/${id}.jpg`], width: i, nested: { ok: i % 2 === 0 } },
    }));

  it("reads back exactly what it wrote, one line per document", async () => {
    const file = join(dir, "docstore.jsonl");
    await writeEntries(file, positions, documents.values(), documents.length);
    expect(await readEntries(file)).toEqual({ positions, documents });
    const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
    expect(JSON.parse(lines[0])).toEqual({ positions: 25_000, documents: 20_000 });
    expect(lines).toHaveLength(1 + 3 + 20_000);
  });

  it("refuses a count that does not match the documents given", async () => {
    await expect(
      writeEntries(join(dir, "short.jsonl"), positions, documents.slice(1), documents.length),
    ).rejects.toThrow("expected 20000 documents to save but got 19999");
  });

  it("calls a truncated file incomplete, naming it", async () => {
    const file = join(dir, "truncated.jsonl");
    await writeEntries(file, positions, documents, documents.length);
    const bytes = await readFile(file);
    await truncate(file, bytes.lastIndexOf("\n", bytes.length - 2) + 1); // the last document line gone
    await expect(readEntries(file)).rejects.toThrow(
      `${file} is incomplete: it promises 25000 positions and 20000 documents but holds 25000 and 19999`,
    );
  });

  it("calls a damaged line corrupt, naming the file and line", async () => {
    const file = join(dir, "damaged.jsonl");
    await writeFile(file, '{"positions":1,"documents":0}\n["a"\n');
    await expect(readEntries(file)).rejects.toThrow(`${file} is corrupt: line 2 is not JSON`);
    await writeFile(file, "");
    await expect(readEntries(file)).rejects.toThrow(`${file} is corrupt: it is empty`);
  });

  it("names a damaged document line inside a batch, and one that holds two documents", async () => {
    const file = join(dir, "damaged-documents.jsonl");
    const lines = [
      JSON.stringify({ positions: 3, documents: 3 }),
      JSON.stringify(["a", "b", "c"]),
      JSON.stringify(documents[0]),
      '{"id":"b","pageContent":"","metadata":{}',
      JSON.stringify(documents[2]),
    ];
    await writeFile(file, lines.join("\n") + "\n");
    await expect(readEntries(file)).rejects.toThrow(`${file} is corrupt: line 4 is not JSON`);
    // Two values on one line would parse inside a batch's array; it is still a damaged line.
    lines[3] = `${JSON.stringify(documents[1])},${JSON.stringify(documents[1])}`;
    await writeFile(file, lines.join("\n") + "\n");
    await expect(readEntries(file)).rejects.toThrow(`${file} is corrupt: line 4 is not JSON`);
  });

  it("keeps characters whole across the reader's 4 MiB chunks", async () => {
    const file = join(dir, "wide.jsonl");
    const wide = Array.from({ length: 2_000 }, (_, i) => ({
      id: `w${i}`,
      pageContent: "✓".repeat(1_000 + (i % 3)),
      metadata: { i },
    }));
    await writeEntries(
      file,
      wide.map((d) => d.id),
      wide,
      wide.length,
    );
    const bytes = await readFile(file);
    // The premise: the first chunk boundary falls inside a three-byte character.
    expect(bytes[1 << 22] & 0xc0).toBe(0x80);
    expect(await readEntries(file)).toEqual({ positions: wide.map((d) => d.id), documents: wide });
  });

  it("reads the single-document docstore.json of earlier saves", async () => {
    const file = join(dir, "docstore.json");
    await writeFile(file, JSON.stringify({ positions: ["a", null], documents: [documents[0]] }));
    expect(await readLegacyEntries(file)).toEqual({ positions: ["a", null], documents: [documents[0]] });
  });
});
