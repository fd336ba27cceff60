/**
 * What every example starts from: the model to use and a folder of sample images.
 * EXAMPLE_MODEL picks another model (a Hub id such as Xenova/clip-vit-base-patch32, or a
 * local directory); EXAMPLES_DIR moves the sample images (default .cache/examples).
 */
import { join, relative, resolve } from "node:path";
import { type GalleryImage, writeGallery } from "./gallery.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** The project's own tiny CLIP model, which runs offline. */
export const MODEL = process.env.EXAMPLE_MODEL ?? join(ROOT, "test/fixtures/models/tiny-clip");

/** Writes `perClass` sample images of each of the 24 colour-and-shape classes. */
export async function sampleImages(perClass = 3): Promise<GalleryImage[]> {
  const dir = process.env.EXAMPLES_DIR ?? join(ROOT, ".cache/examples");
  return writeGallery(join(dir, "images"), perClass, 500);
}

/** A path as printed: relative to the working directory when it is inside it. */
export function show(path: unknown): string {
  if (typeof path !== "string") return String(path);
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") ? path : rel;
}
