/**
 * Writes a gallery of generated coloured-shape images to a folder, one file per image,
 * named `<colour>-<shape>-<n>.png`. The examples and the retriever tests use it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CLASSES, type Colour, type Shape, renderShape } from "./shapes.js";

export interface GalleryImage {
  path: string;
  label: string;
  colour: Colour;
  shape: Shape;
  seed: number;
}

/** Renders `perClass` images of each of the 24 classes into `dir`. Seeds start at `seedBase`. */
export async function writeGallery(dir: string, perClass: number, seedBase: number): Promise<GalleryImage[]> {
  await mkdir(dir, { recursive: true });
  const images = CLASSES.flatMap((c, ci) =>
    Array.from({ length: perClass }, (_, j) => {
      const seed = seedBase + ci * 1000 + j;
      return { ...c, seed, path: join(dir, `${c.colour}-${c.shape}-${j}.png`) };
    }),
  );
  await Promise.all(images.map(async (image) => writeFile(image.path, await renderShape(image))));
  return images;
}
