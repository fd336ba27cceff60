/**
 * Training data from disk, embedded once with the frozen model and cached:
 * - a folder with one subfolder per class (`products/mug/*.jpg`, `products/lamp/*.jpg`);
 * - a JSONL file of triplets `{"anchor": "a.jpg", "positive": "b.jpg", "negative": "c.jpg"}`
 *   or pairs `{"image": "a.jpg", "text": "a red mug"}` / `{"a": "a.jpg", "b": "b.jpg"}`
 *   (paths relative to the JSONL file).
 * The cache maps each file (by path, size and mtime) and each text to its vector, per
 * model and dtype, so a second run with other training settings embeds nothing.
 */
import { readdir, readFile, rename, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { ImageEmbeddings } from "../embeddings/image_embeddings.js";
import { hasImageSuffix, imageFileSuffixes } from "../indexer/formats.js";
import { writeDurably } from "../vectorstores/persistence.js";
import type { TrainingData } from "./train_head.js";

/** What a data source names, before embedding. */
export type TrainingSource =
  | { kind: "classes"; examples: { path: string; label: string }[] }
  | { kind: "triplets"; triplets: { anchor: string; positive: string; negative: string }[] }
  | { kind: "image-pairs"; pairs: { a: string; b: string }[] }
  | { kind: "image-text"; pairs: { image: string; text: string }[] };

export async function readTrainingSource(location: string): Promise<TrainingSource> {
  const info = await stat(location).catch(() => undefined);
  if (!info) throw new Error(`No training data at ${location}`);
  return info.isDirectory() ? readClassFolders(location) : readJsonl(location);
}

async function readClassFolders(root: string): Promise<TrainingSource> {
  const examples: { path: string; label: string }[] = [];
  const suffixes = await imageFileSuffixes();
  for (const entry of (await readdir(root, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const files = (await readdir(join(root, entry.name), { withFileTypes: true })).filter(
      (f) => f.isFile() && hasImageSuffix(f.name, suffixes),
    );
    for (const file of files.sort((a, b) => (a.name < b.name ? -1 : 1)))
      examples.push({ path: resolve(root, entry.name, file.name), label: entry.name });
  }
  const classes = new Set(examples.map((e) => e.label));
  if (classes.size < 2) throw new Error(`${root} needs at least two class folders with images (found ${classes.size})`);
  return { kind: "classes", examples };
}

async function readJsonl(file: string): Promise<TrainingSource> {
  const base = dirname(resolve(file));
  const lines = (await readFile(file, "utf8")).split("\n").map((l) => l.trim());
  const records = lines.flatMap((line, i) => {
    if (line === "" || line.startsWith("//")) return [];
    try {
      return [{ line: i + 1, value: JSON.parse(line) as Record<string, unknown> }];
    } catch {
      throw new Error(`${file}:${i + 1}: not valid JSON`);
    }
  });
  if (records.length === 0) throw new Error(`${file} holds no training records`);
  const path = (value: unknown, line: number, key: string) => {
    if (typeof value !== "string" || value === "") throw new Error(`${file}:${line}: "${key}" must be an image path`);
    return resolve(base, value);
  };
  const first = records[0].value;
  if ("anchor" in first) {
    return {
      kind: "triplets",
      triplets: records.map(({ line, value }) => ({
        anchor: path(value.anchor, line, "anchor"),
        positive: path(value.positive, line, "positive"),
        negative: path(value.negative, line, "negative"),
      })),
    };
  }
  if ("image" in first) {
    return {
      kind: "image-text",
      pairs: records.map(({ line, value }) => {
        if (typeof value.text !== "string") throw new Error(`${file}:${line}: "text" must be a string`);
        return { image: path(value.image, line, "image"), text: value.text };
      }),
    };
  }
  if ("a" in first)
    return {
      kind: "image-pairs",
      pairs: records.map(({ line, value }) => ({ a: path(value.a, line, "a"), b: path(value.b, line, "b") })),
    };
  throw new Error(
    `${file}:${records[0].line}: expected {"anchor","positive","negative"}, {"image","text"} or {"a","b"}`,
  );
}

interface VectorCache {
  model: string;
  dtype: string;
  images: Record<string, { size: number; mtimeMs: number; vector: number[] }>;
  texts: Record<string, number[]>;
}

export interface EmbeddedTrainingData {
  data: TrainingData;
  /** Files that could not be embedded (left out of training), with the reason. */
  failures: { path: string; reason: string }[];
  /** How many images and texts were embedded now (the rest came from the cache). */
  embedded: number;
}

/** Embeds what `source` names (only what the cache lacks) and shapes it for `trainProjectionHead`. */
export async function embedTrainingSource(
  source: TrainingSource,
  embeddings: ImageEmbeddings,
  cacheFile?: string,
): Promise<EmbeddedTrainingData> {
  const cache = await readCache(cacheFile, embeddings);
  const images = new Set<string>();
  const texts = new Set<string>();
  if (source.kind === "classes") source.examples.forEach((e) => images.add(e.path));
  if (source.kind === "triplets")
    source.triplets.forEach((t) => [t.anchor, t.positive, t.negative].forEach((p) => images.add(p)));
  if (source.kind === "image-pairs") source.pairs.forEach((p) => [p.a, p.b].forEach((x) => images.add(x)));
  if (source.kind === "image-text") source.pairs.forEach((p) => (images.add(p.image), texts.add(p.text)));

  const failures: { path: string; reason: string }[] = [];
  const stale: { path: string; size: number; mtimeMs: number }[] = [];
  for (const path of images) {
    const info = await stat(path).catch((error: Error) => error);
    if (info instanceof Error) {
      failures.push({ path, reason: info.message });
      continue;
    }
    const hit = cache.images[path];
    if (!hit || hit.size !== info.size || hit.mtimeMs !== info.mtimeMs)
      stale.push({ path, size: info.size, mtimeMs: info.mtimeMs });
  }
  const results = await embeddings.embedImagesSettled(stale.map((s) => s.path));
  results.forEach((r, i) => {
    if (r.error) failures.push({ path: stale[i].path, reason: r.error.reason });
    else cache.images[stale[i].path] = { size: stale[i].size, mtimeMs: stale[i].mtimeMs, vector: r.embedding };
  });
  const newTexts = [...texts].filter((t) => !cache.texts[t]);
  (await embeddings.embedDocuments(newTexts)).forEach((v, i) => (cache.texts[newTexts[i]] = v));
  if (cacheFile) await writeCache(cacheFile, cache);

  const failed = new Set(failures.map((f) => f.path));
  const vector = (path: string) => cache.images[path].vector;
  const ok = (...paths: string[]) => paths.every((p) => !failed.has(p));
  let data: TrainingData;
  if (source.kind === "classes")
    data = {
      examples: source.examples.filter((e) => ok(e.path)).map((e) => ({ vector: vector(e.path), label: e.label })),
    };
  else if (source.kind === "triplets") {
    data = {
      triplets: source.triplets
        .filter((t) => ok(t.anchor, t.positive, t.negative))
        .map((t) => ({ anchor: vector(t.anchor), positive: vector(t.positive), negative: vector(t.negative) })),
    };
  } else if (source.kind === "image-pairs")
    data = { pairs: source.pairs.filter((p) => ok(p.a, p.b)).map((p) => ({ a: vector(p.a), b: vector(p.b) })) };
  else
    data = {
      pairs: source.pairs.filter((p) => ok(p.image)).map((p) => ({ a: vector(p.image), b: cache.texts[p.text] })),
    };
  return { data, failures, embedded: results.filter((r) => !r.error).length + newTexts.length };
}

async function readCache(file: string | undefined, embeddings: ImageEmbeddings): Promise<VectorCache> {
  const empty: VectorCache = { model: embeddings.model, dtype: embeddings.dtype, images: {}, texts: {} };
  if (!file) return empty;
  try {
    const cache = JSON.parse(await readFile(file, "utf8")) as VectorCache;
    // Vectors of another model (or precision) are not comparable: start over.
    return cache.model === embeddings.model && cache.dtype === embeddings.dtype ? cache : empty;
  } catch {
    return empty;
  }
}

async function writeCache(file: string, cache: VectorCache): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeDurably(temp, JSON.stringify(cache));
  await rename(temp, file);
}
