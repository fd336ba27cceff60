import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const TINY_CLIP = join(ROOT, "test/fixtures/models/tiny-clip");
export const FIXTURE_IMAGES = join(ROOT, "test/fixtures/images");

export interface ReferenceImage {
  file: string;
  class: string;
  width: number;
  height: number;
  /** True when the file is already at the model's input size (no resize needed). */
  at_model_size: boolean;
  embedding: number[];
}
export interface ReferenceText {
  text: string;
  input_ids: number[];
  embedding: number[];
}
export interface Reference {
  images: ReferenceImage[];
  texts: ReferenceText[];
}

export function loadReference(): Reference {
  return JSON.parse(readFileSync(join(ROOT, "test/fixtures/reference/tiny-clip.json"), "utf8"));
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export async function tempDir(prefix = "lie-test-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
