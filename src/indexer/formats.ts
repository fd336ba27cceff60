/**
 * Which files the folder indexer treats as images: the file suffixes of every format
 * that the installed sharp (libvips) can read from a file. With sharp's prebuilt
 * libvips that is jpg/jpeg/jpe/jfif, png, webp, gif, tif/tiff, avif and svg; a
 * libvips built with more loaders (heic, jp2, jxl, ...) adds theirs automatically.
 */
import { loadSharp } from "../utils/imports.js";

/**
 * libvips' own `.v` / `.vips` format (a suffix far more often used by other files),
 * and SVG, which ImageEmbeddings refuses: it is a document (scripts, external
 * references), not a photo.
 */
const IGNORED_FORMATS = new Set(["vips", "svg"]);

let cached: string[] | undefined;

/** Lower-case suffixes with their dot (".jpg", ".svg.gz"), longest first. Loads sharp on the first call. */
export async function imageFileSuffixes(): Promise<string[]> {
  if (!cached) {
    const sharp = await loadSharp();
    const suffixes = new Set<string>();
    for (const [name, format] of Object.entries(sharp.format)) {
      const input = (format as { input?: { file?: boolean; fileSuffix?: string[] } }).input;
      if (IGNORED_FORMATS.has(name) || !input?.file) continue;
      for (const suffix of input.fileSuffix ?? []) suffixes.add(suffix.toLowerCase());
    }
    cached = [...suffixes].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  }
  return cached;
}

/** Whether a file name ends in one of `suffixes` (`imageFileSuffixes()`: those sharp reads). */
export function hasImageSuffix(name: string, suffixes: string[]): boolean {
  const lower = name.toLowerCase();
  return suffixes.some((suffix) => lower.endsWith(suffix) && lower.length > suffix.length);
}
