/**
 * The store's entries (index position → id, and each id's Document) on disk, as JSON Lines
 * written and read a piece at a time. One JSON document of ten million entries would be
 * about 1.5 GB of text, past V8's longest string (2^29 characters), so neither
 * `JSON.stringify` nor `JSON.parse` could handle it whole.
 *
 *   line 1            {"positions": P, "documents": D}
 *   next lines        JSON arrays of up to 10,000 positions each (an id, or null for a deleted one), P in all
 *   last D lines      one Document each: {"id", "pageContent", "metadata"}
 *
 * The counts on the first line make a truncated file an error rather than a smaller store.
 * Stores saved before this format have `docstore.json` (one JSON document); it is still read.
 */
import { createReadStream } from "node:fs";
import { open, readFile } from "node:fs/promises";

/** One stored Document, as saved. */
export interface SavedDocument {
  id: string;
  pageContent: string;
  metadata: Record<string, unknown>;
}

export interface SavedEntries {
  /** Index position → document id, null for a deleted position. */
  positions: (string | null)[];
  documents: SavedDocument[];
}

/** The first line: how many positions and documents follow. */
interface EntryCounts {
  positions: number;
  documents: number;
}

const POSITIONS_PER_LINE = 10_000;
/** Text gathered before each write: few syscalls, and a bounded string. */
const WRITE_CHUNK_CHARS = 1 << 22;

/** Writes the entries to `path` (created or truncated) and fsyncs it. */
export async function writeEntries(
  path: string,
  positions: readonly (string | null)[],
  documents: Iterable<SavedDocument>,
  documentCount: number,
): Promise<void> {
  const handle = await open(path, "w", 0o644);
  try {
    let pending: string[] = [];
    let pendingChars = 0;
    const push = async (line: string) => {
      pending.push(line, "\n");
      pendingChars += line.length + 1;
      if (pendingChars < WRITE_CHUNK_CHARS) return;
      await handle.write(pending.join(""));
      pending = [];
      pendingChars = 0;
    };
    await push(JSON.stringify({ positions: positions.length, documents: documentCount }));
    for (let from = 0; from < positions.length; from += POSITIONS_PER_LINE) {
      await push(JSON.stringify(positions.slice(from, from + POSITIONS_PER_LINE)));
    }
    let written = 0;
    for (const { id, pageContent, metadata } of documents) {
      await push(JSON.stringify({ id, pageContent, metadata }));
      written++;
    }
    if (written !== documentCount) throw new Error(`expected ${documentCount} documents to save but got ${written}`);
    if (pending.length > 0) await handle.write(pending.join(""));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Document lines parsed per `JSON.parse` call, as one JSON array: a million one-line parses
 * (and readline's per-line events) cost about a fifth more CPU than batches of these, on
 * the 1M-entry docstore of the scale benchmark (bench/scale.ts).
 */
const DOCUMENTS_PER_PARSE = 4096;
/** Bytes read at a time. */
const READ_CHUNK_BYTES = 1 << 22;

/** Reads entries written by `writeEntries`, a chunk of lines at a time. */
export async function readEntries(path: string): Promise<SavedEntries> {
  const positions: (string | null)[] = [];
  const documents: SavedDocument[] = [];
  let counts: EntryCounts | undefined;
  let lineNumber = 0;
  /** Document lines not parsed yet, the first of them at line `batchStart`. */
  let batch: string[] = [];
  let batchStart = 0;

  const parseLine = (line: string, at: number): unknown => {
    try {
      return JSON.parse(line);
    } catch (error) {
      throw new Error(`${path} is corrupt: line ${at} is not JSON`, { cause: error });
    }
  };
  const parseBatch = () => {
    if (batch.length === 0) return;
    let values: unknown[] | undefined;
    try {
      values = JSON.parse(`[${batch.join(",")}]`) as unknown[];
    } catch {
      values = undefined;
    }
    // A damaged line fails the batch (or, holding a comma, parses as more than one value):
    // parse its lines one by one, so the error names the line.
    if (values?.length !== batch.length) values = batch.map((line, i) => parseLine(line, batchStart + i));
    for (const value of values) documents.push(value as SavedDocument);
    batch = [];
  };
  const take = (line: string) => {
    lineNumber++;
    if (counts === undefined) {
      counts = parseLine(line, lineNumber) as EntryCounts;
      if (!Number.isInteger(counts?.positions) || !Number.isInteger(counts?.documents))
        throw new Error(`${path} is corrupt: its first line gives no entry counts`);
    } else if (positions.length < counts.positions) {
      const value = parseLine(line, lineNumber);
      if (!Array.isArray(value)) throw new Error(`${path} is corrupt: line ${lineNumber} should list positions`);
      for (const id of value as (string | null)[]) positions.push(id);
    } else {
      if (batch.length === 0) batchStart = lineNumber;
      batch.push(line);
      if (batch.length >= DOCUMENTS_PER_PARSE) parseBatch();
    }
  };

  // JSON text holds no raw newline, so every "\n" ends a line; the decoder keeps characters split between chunks whole.
  let rest = "";
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: READ_CHUNK_BYTES })) {
    const lines = (rest + (chunk as string)).split("\n");
    rest = lines.pop()!;
    for (const line of lines) take(line);
  }
  if (rest !== "") take(rest);
  parseBatch();
  if (counts === undefined) throw new Error(`${path} is corrupt: it is empty`);
  if (positions.length !== counts.positions || documents.length !== counts.documents) {
    throw new Error(
      `${path} is incomplete: it promises ${counts.positions} positions and ${counts.documents} ` +
        `documents but holds ${positions.length} and ${documents.length}`,
    );
  }
  return { positions, documents };
}

/** Reads the single-document `docstore.json` of stores saved by earlier versions. */
export async function readLegacyEntries(path: string): Promise<SavedEntries> {
  return JSON.parse(await readFile(path, "utf8")) as SavedEntries;
}
