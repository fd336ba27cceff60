/**
 * Reads a result's image back from its source (path or URL) as a data URI, so a
 * multimodal chat model can look at what was retrieved. Reading goes through the
 * package's image reader (same path, file: URL and http(s) handling, same download
 * limits as embedding); nothing here decodes pixels.
 */
import { readImageInput } from "../images/image_input.js";

/** What `readImageDataUri` found: a data URI, or why there is none. */
export type ImageDataResult = { dataUri: string; error?: undefined } | { dataUri?: undefined; error: string };

/**
 * Reads `source` into `data:<mime>;base64,...`. Never throws: an unreadable, unknown
 * or oversized image is reported as `{ error }` so that one bad result does not cost
 * the others.
 */
export async function readImageDataUri(source: unknown, maxBytes: number): Promise<ImageDataResult> {
  if (typeof source !== "string" || source === "") return { error: "no source path or URL to read the image from" };
  let bytes: Buffer;
  try {
    const loaded = await readImageInput(source, { maxDownloadBytes: maxBytes });
    if (loaded.kind !== "encoded") return { error: "the source is not an encoded image" };
    bytes = loaded.bytes;
  } catch (error) {
    return { error: (error as Error).message };
  }
  if (bytes.length > maxBytes) {
    return { error: `image is ${bytes.length} bytes, more than imageDataMaxBytes (${maxBytes})` };
  }
  const mime = sniffImageMime(bytes);
  if (!mime) return { error: "unrecognised image format: no data URI attached" };
  return { dataUri: `data:${mime};base64,${bytes.toString("base64")}` };
}

/** The MIME type from an image file's first bytes, or undefined when unknown. */
export function sniffImageMime(b: Uint8Array): string | undefined {
  const ascii = (start: number, end: number) => String.fromCharCode(...b.subarray(start, end));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (ascii(0, 8) === "\x89PNG\r\n\x1a\n") return "image/png";
  if (ascii(0, 4) === "GIF8") return "image/gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (ascii(0, 2) === "BM") return "image/bmp";
  if (ascii(0, 4) === "II*\0" || ascii(0, 4) === "MM\0*") return "image/tiff";
  if (ascii(4, 8) === "ftyp") {
    const brand = ascii(8, 12);
    if (brand === "avif" || brand === "avis") return "image/avif";
    if (["heic", "heix", "heim", "heis", "mif1", "msf1"].includes(brand)) return "image/heic";
  }
  const head = ascii(0, Math.min(b.length, 256)).trimStart();
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "image/svg+xml";
  return undefined;
}
