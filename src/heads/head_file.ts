/**
 * A projection head on disk: one small JSON file with a format name and version, the
 * shape, and the weights as base64 little-endian float32 (the precision heads are kept
 * in after training, so a reloaded head gives identical vectors). Saved atomically:
 * a temp file, fsync, rename.
 */
import { readFileSync } from "node:fs";
import { rename } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fsyncDirectory, writeDurably } from "../vectorstores/persistence.js";
import { ProjectionHead, type HeadShape } from "./projection_head.js";

export const HEAD_FORMAT = "langchain-image-embeddings/projection-head";
export const HEAD_VERSION = 1;

interface HeadFile extends HeadShape {
  format: typeof HEAD_FORMAT;
  version: number;
  id: string;
  /** Little-endian float32, base64. */
  params: string;
  /** Free-form: how it was trained (loss, data size, validation score, ...). */
  training?: Record<string, unknown>;
}

export function headToJson(head: ProjectionHead, training?: Record<string, unknown>): string {
  const file: HeadFile = {
    format: HEAD_FORMAT,
    version: HEAD_VERSION,
    id: head.id,
    ...head.shape,
    ...(head.shape.kind === "linear" ? { hiddenDim: undefined } : {}),
    params: Buffer.from(Float32Array.from(head.params).buffer).toString("base64"),
    training,
  };
  return JSON.stringify(file, null, 1);
}

export function headFromJson(json: string, where = "projection head"): ProjectionHead {
  let file: HeadFile;
  try {
    file = JSON.parse(json);
  } catch (error) {
    throw new Error(`${where} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (file?.format !== HEAD_FORMAT)
    throw new Error(`${where} is not a projection head file (format ${JSON.stringify(file?.format)})`);
  if (!(file.version <= HEAD_VERSION))
    throw new Error(`${where} has version ${file.version}; this package reads up to ${HEAD_VERSION}`);
  const bytes = Buffer.from(file.params ?? "", "base64");
  const floats = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength - (bytes.byteLength % 4)),
  );
  const head = new ProjectionHead(
    { kind: file.kind, inputDim: file.inputDim, hiddenDim: file.hiddenDim, outputDim: file.outputDim },
    Float64Array.from(floats),
  );
  if (head.id !== file.id) throw new Error(`${where} is damaged: its weights do not match its id ${file.id}`);
  return head;
}

export async function saveProjectionHead(
  head: ProjectionHead,
  path: string,
  training?: Record<string, unknown>,
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeDurably(temp, headToJson(head, training));
  await rename(temp, path);
  await fsyncDirectory(dirname(path));
}

/** Reads a head file (synchronously: heads are small, and a bad file should fail where it is named). */
export function loadProjectionHead(path: string): ProjectionHead {
  let json: string;
  try {
    json = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`Cannot read the projection head ${path}: ${(error as Error).message}`, { cause: error });
  }
  return headFromJson(json, `The projection head ${path}`);
}
