/**
 * Reads a folder written by LangChain Python's `FAISS.save_local`: `index.faiss` and
 * `index.pkl`.
 *
 * `index.faiss` is a flat faiss index (`IndexFlatL2`, or `IndexFlatIP` for
 * MAX_INNER_PRODUCT); its vectors are read out here because faiss-node cannot read
 * vectors back from an index, and the store keeps its own copy. Layout (faiss `write_index`): fourcc(4) d(int32) ntotal(int64) dummy(int64) dummy(int64)
 * is_trained(uint8) metric_type(int32) [metric_arg(float32) when metric_type > 1],
 * then the codes as a size-prefixed vector of float32 (`WRITEXBVECTOR`).
 */
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import type { DistanceMetric } from "./faiss_index.js";
import { readWholeFile } from "./persistence.js";

/** What a LangChain Python FAISS folder holds, ready for `ImageFaissStore.addVectors`. */
export interface PythonFaissFolder {
  metric: DistanceMetric;
  dimension: number;
  /** One vector per index position, laid end to end. */
  vectors: Float32Array;
  /** The Document at each index position, with its docstore id. */
  documents: Document[];
}

/** Reads `index.faiss` and `index.pkl` from `directory`. */
export async function readPythonFaissFolder(directory: string): Promise<PythonFaissFolder> {
  const { metric, dimension, vectors } = readPythonFlatIndex(await readWholeFile(join(directory, "index.faiss")));
  const pickleFile = join(directory, "index.pkl");
  const documents = await readPythonDocstore(pickleFile, vectors.length / dimension);
  return { metric, dimension, vectors, documents };
}

/**
 * The Documents of `index.pkl`, one per index position. The pickle is a tuple
 * `(InMemoryDocstore, index_to_docstore_id)`: the docstore's `_dict` maps each id to a
 * pydantic `Document` (page_content, metadata), and the dict maps each index position
 * to its id. Unpickling only builds plain objects: no Python class is run or trusted.
 */
export async function readPythonDocstore(file: string, count: number): Promise<Document[]> {
  const { Parser, NameRegistry } = (await import("pickleparser")).default;
  // pathlib paths in metadata (a common `source`) become strings; other classes stay plain objects.
  const names = new NameRegistry();
  for (const name of ["PosixPath", "PurePosixPath"]) names.register("pathlib", name, joinPath("/"));
  for (const name of ["WindowsPath", "PureWindowsPath"]) names.register("pathlib", name, joinPath("\\"));
  let parsed: unknown;
  try {
    parsed = new Parser({ nameResolver: names }).parse(await readWholeFile(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw error;
    throw new Error(`${file} is not a readable Python pickle: ${(error as Error).message}`, { cause: error });
  }
  const unexpected = (what: string) =>
    new Error(
      `${file} is not what LangChain Python's FAISS.save_local writes: ${what}. ` +
        `Expected a pickled tuple (InMemoryDocstore, index_to_docstore_id).`,
    );
  if (!Array.isArray(parsed) || parsed.length !== 2) throw unexpected(`it holds ${describe(parsed)}, not a pair`);
  const [docstore, mapping] = parsed as [unknown, unknown];
  const byId = (docstore as { _dict?: unknown } | null)?._dict;
  if (!isRecord(byId)) throw unexpected(`its docstore (${describe(docstore)}) has no _dict of documents`);
  if (!isRecord(mapping)) throw unexpected(`its index_to_docstore_id is ${describe(mapping)}, not a dict`);

  return Array.from({ length: count }, (_, position) => {
    const id = mapping[position];
    if (typeof id !== "string") throw unexpected(`index_to_docstore_id has no id for index position ${position}`);
    // pydantic models pickle their fields under __dict__.
    const stored = byId[id];
    const fields: unknown = isRecord(stored) && isRecord(stored.__dict__) ? stored.__dict__ : stored;
    if (!isRecord(fields) || typeof fields.page_content !== "string") {
      throw unexpected(`the docstore has no Document with page_content for id "${id}" (index position ${position})`);
    }
    const metadata = isRecord(fields.metadata) ? fields.metadata : {};
    return new Document({ id, pageContent: fields.page_content, metadata });
  });
}

/** pathlib pickles a path as its parts, the root included: ("/", "home", "a.jpg") → "/home/a.jpg". */
function joinPath(separator: string) {
  return (...parts: unknown[]) =>
    parts
      .map(String)
      .reduce((path, part) => (path === "" || /[\\/]$/.test(path) ? path + part : path + separator + part), "");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a sequence of ${value.length}`;
  if (value === null || value === undefined) return "nothing";
  if (typeof value !== "object") return `a ${typeof value}`;
  const name = (Object.getPrototypeOf(value) as { __name__?: unknown })?.__name__;
  return typeof name === "string" ? `a ${name}` : "an object";
}

export function readPythonFlatIndex(bytes: Buffer): {
  metric: DistanceMetric;
  dimension: number;
  vectors: Float32Array;
} {
  const fourcc = bytes.toString("latin1", 0, 4);
  if (fourcc !== "IxF2" && fourcc !== "IxFI") {
    throw new Error(
      `index.faiss is a "${fourcc}" index; only flat indexes (IndexFlatL2 "IxF2", IndexFlatIP "IxFI") written by LangChain Python are supported`,
    );
  }
  const dimension = bytes.readInt32LE(4);
  const ntotal = Number(bytes.readBigInt64LE(8));
  const metricType = bytes.readInt32LE(33);
  let offset = 37 + (metricType > 1 ? 4 : 0);
  const declared = Number(bytes.readBigUInt64LE(offset));
  offset += 8;
  const floats = ntotal * dimension;
  // Older faiss wrote a float count, newer ones a byte count; both are accepted.
  if (declared !== floats && declared !== floats * 4) {
    throw new Error(
      `index.faiss is inconsistent: ${ntotal} vectors of ${dimension} dimensions but ${declared} stored values`,
    );
  }
  if (bytes.length < offset + floats * 4) throw new Error("index.faiss is truncated");
  const vectors = new Float32Array(floats);
  new Uint8Array(vectors.buffer).set(bytes.subarray(offset, offset + floats * 4));
  return { metric: fourcc === "IxFI" ? "cosine" : "l2", dimension, vectors };
}
