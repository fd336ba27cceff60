/**
 * Turns any supported image input into bytes (or raw pixels) plus a name for error
 * messages. Nothing here decodes pixels; that is `decode.ts`.
 */
import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ImageInputError } from "../errors.js";
import { describeImageBlock, imageBlockSource, isImageContentBlock, type ImageContentBlock } from "./image_block.js";
import { fetchImageBytes, type RemoteFetchOptions } from "./remote_fetch.js";

/** Raw pixels, shaped like transformers.js `RawImage` (which is accepted as is). */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * Everything `embedImage` accepts:
 * - a file path, a `file:` URL, or an http(s) URL (string or `URL`);
 * - a data URI (`data:image/png;base64,...`) or bare base64 of an image file;
 * - the bytes of an image file: `Buffer`, `Uint8Array`, `ArrayBuffer`, or a `Blob`;
 * - decoded pixels: a transformers.js `RawImage`, or any `{ data, width, height, channels }`;
 * - an image content block from a chat message: LangChain's standard `{ type: "image", url }` or
 *   `{ type: "image", data, mimeType }`, or OpenAI's `{ type: "image_url", image_url: { url } }`
 *   (http(s) and data URIs only; see `image_block.ts`).
 */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | Blob | RawPixels | ImageContentBlock;

/** An input after reading: encoded bytes, or pixels that need no decoding. */
export type LoadedImage =
  { kind: "encoded"; bytes: Buffer; source?: string } | { kind: "raw"; pixels: RawPixels; source?: string };

export type ReadImageOptions = RemoteFetchOptions;

/** A short name for an input, used in every error about it. */
export function describeInput(input: unknown, index?: number): string {
  const at = index === undefined ? "input" : `inputs[${index}]`;
  if (typeof input === "string") {
    if (input.startsWith("data:")) return `${at} (data URI, ${input.length} chars)`;
    if (looksLikeBase64Image(input)) return `${at} (base64 string, ${input.length} chars)`;
    return input.length > 300 ? `${at} (string, ${input.length} chars)` : input;
  }
  if (input instanceof URL) return input.href;
  if (Buffer.isBuffer(input)) return `${at} (Buffer, ${input.length} bytes)`;
  if (input instanceof Uint8Array) return `${at} (Uint8Array, ${input.length} bytes)`;
  if (input instanceof ArrayBuffer) return `${at} (ArrayBuffer, ${input.byteLength} bytes)`;
  if (typeof Blob !== "undefined" && input instanceof Blob) return `${at} (Blob, ${input.size} bytes)`;
  if (isImageContentBlock(input)) return `${at} (${describeImageBlock(input)})`;
  if (isRawPixels(input)) return `${at} (RawImage ${input.width}x${input.height}x${input.channels})`;
  return `${at} (${input === null ? "null" : typeof input})`;
}

/** Reads one input into bytes or pixels. Throws `ImageInputError` naming the input. */
export async function readImageInput(
  input: ImageInput,
  options: ReadImageOptions = {},
  index?: number,
): Promise<LoadedImage> {
  const name = describeInput(input, index);
  const fail = (reason: string, code: ImageInputError["code"], cause?: unknown) =>
    new ImageInputError(name, reason, code, index, { cause });

  if (typeof input === "string") {
    if (input.startsWith("data:")) return { kind: "encoded", bytes: decodeDataUri(input, fail) };
    if (/^https?:\/\//i.test(input)) return readRemote(new URL(input), options, fail);
    if (/^file:/i.test(input)) return readLocalFile(fileURLToPath(input), fail);
    if (looksLikeBase64Image(input)) return { kind: "encoded", bytes: Buffer.from(input, "base64") };
    if (input.trim() === "") throw fail("empty string: expected a path, URL, data URI or base64", "INVALID_INPUT");
    return readLocalFile(input, fail);
  }
  if (input instanceof URL) {
    if (input.protocol === "file:") return readLocalFile(fileURLToPath(input), fail);
    if (input.protocol === "http:" || input.protocol === "https:") return readRemote(input, options, fail);
    throw fail(`unsupported URL protocol "${input.protocol}" (expected file:, http: or https:)`, "INVALID_INPUT");
  }
  if (Buffer.isBuffer(input)) return { kind: "encoded", bytes: input };
  if (input instanceof Uint8Array) {
    return { kind: "encoded", bytes: Buffer.from(input.buffer, input.byteOffset, input.byteLength) };
  }
  if (input instanceof ArrayBuffer) return { kind: "encoded", bytes: Buffer.from(input) };
  if (typeof Blob !== "undefined" && input instanceof Blob) {
    return { kind: "encoded", bytes: Buffer.from(await input.arrayBuffer()) };
  }
  if (isImageContentBlock(input)) return readImageBlock(input, options, fail);
  if (isRawPixels(input)) return { kind: "raw", pixels: checkRawPixels(input, fail) };
  throw fail(
    "unsupported input type: expected a path, URL, data URI, base64 string, Buffer, Uint8Array, ArrayBuffer, Blob, RawImage or image content block",
    "INVALID_INPUT",
  );
}

type Fail = (reason: string, code: ImageInputError["code"], cause?: unknown) => ImageInputError;

async function readLocalFile(path: string, fail: Fail): Promise<LoadedImage> {
  try {
    // stat first: reading a directory gives a confusing EISDIR from some platforms.
    const info = await stat(path);
    if (!info.isFile()) throw fail("not a regular file (it is a directory or device)", "NOT_READABLE");
    return { kind: "encoded", bytes: await readFile(path), source: path };
  } catch (error) {
    if (error instanceof ImageInputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw fail("no such file", "NOT_FOUND", error);
    if (code === "EACCES" || code === "EPERM") throw fail("permission denied", "NOT_READABLE", error);
    if (code === "ELOOP") throw fail("too many levels of symbolic links", "NOT_READABLE", error);
    throw fail(`cannot read file (${code ?? (error as Error).message})`, "NOT_READABLE", error);
  }
}

async function readRemote(url: URL, options: RemoteFetchOptions, fail: Fail): Promise<LoadedImage> {
  const bytes = await fetchImageBytes(url, options, (reason, cause) => fail(reason, "FETCH_FAILED", cause));
  return { kind: "encoded", bytes, source: url.href };
}

async function readImageBlock(block: ImageContentBlock, options: RemoteFetchOptions, fail: Fail): Promise<LoadedImage> {
  let source;
  try {
    source = imageBlockSource(block);
  } catch (error) {
    throw fail((error as Error).message, "INVALID_INPUT", error);
  }
  if (source.bytes) return { kind: "encoded", bytes: source.bytes };
  if (source.url.startsWith("data:")) return { kind: "encoded", bytes: decodeDataUri(source.url, fail) };
  let url: URL;
  try {
    url = new URL(source.url);
  } catch (error) {
    throw fail("malformed url in the image block", "INVALID_INPUT", error);
  }
  return readRemote(url, options, fail);
}

function decodeDataUri(uri: string, fail: Fail): Buffer {
  const comma = uri.indexOf(",");
  if (comma < 0) throw fail("malformed data URI: no comma before the data", "INVALID_INPUT");
  const header = uri.slice(5, comma);
  const payload = uri.slice(comma + 1);
  if (header.endsWith(";base64")) return Buffer.from(payload, "base64");
  return Buffer.from(decodeURIComponent(payload), "latin1");
}

const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}$/;

/**
 * Bare base64 is told apart from a path by its alphabet and by what it decodes to:
 * the first bytes must be a known image signature. "/9j/..." (JPEG) would otherwise
 * pass for an absolute path.
 */
function looksLikeBase64Image(text: string): boolean {
  if (text.length < 16 || !BASE64.test(text.slice(0, 4096))) return false;
  const head = Buffer.from(text.slice(0, 64), "base64");
  return hasImageSignature(head);
}

function hasImageSignature(b: Buffer): boolean {
  const ascii = b.toString("latin1");
  return (
    (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || // JPEG
    ascii.startsWith("\x89PNG") ||
    ascii.startsWith("GIF8") ||
    (ascii.startsWith("RIFF") && ascii.slice(8, 12) === "WEBP") ||
    ascii.startsWith("II*\0") ||
    ascii.startsWith("MM\0*") || // TIFF
    ascii.startsWith("BM") ||
    ascii.slice(4, 8) === "ftyp" || // AVIF / HEIF
    ascii.startsWith("<svg") ||
    ascii.startsWith("<?xml")
  );
}

export function isRawPixels(value: unknown): value is RawPixels {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<RawPixels>;
  return (
    (v.data instanceof Uint8Array || v.data instanceof Uint8ClampedArray) &&
    typeof v.width === "number" &&
    typeof v.height === "number" &&
    typeof v.channels === "number"
  );
}

function checkRawPixels(p: RawPixels, fail: Fail): RawPixels {
  const valid =
    Number.isInteger(p.width) &&
    p.width > 0 &&
    Number.isInteger(p.height) &&
    p.height > 0 &&
    [1, 2, 3, 4].includes(p.channels);
  if (!valid) {
    throw fail(`invalid RawImage shape ${p.width}x${p.height}x${p.channels}`, "INVALID_INPUT");
  }
  if (p.data.length !== p.width * p.height * p.channels) {
    throw fail(
      `RawImage data has ${p.data.length} bytes but ${p.width}x${p.height}x${p.channels} needs ${p.width * p.height * p.channels}`,
      "INVALID_INPUT",
    );
  }
  return p;
}
