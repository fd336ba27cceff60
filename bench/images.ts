/**
 * The benchmark images, generated once and cached in .cache/bench/images:
 * "camera" 4000×3000 and "web" 640×480 JPEGs with photo-like content (smooth gradients,
 * shapes and sensor-like noise, so JPEG sizes and decode costs are realistic).
 */
import { existsSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";

export const IMAGE_SIZES = {
  camera: { width: 4000, height: 3000, quality: 90 },
  web: { width: 640, height: 480, quality: 85 },
} as const;
export type ImageSize = keyof typeof IMAGE_SIZES;

export async function benchImages(root: string, size: ImageSize, count: number): Promise<string[]> {
  const dir = join(root, "images", size);
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `${size}-${String(i).padStart(5, "0")}.jpg`);
    if (!existsSync(path)) await writeImage(path, size, i);
    paths.push(path);
  }
  return paths;
}

async function writeImage(path: string, size: ImageSize, seed: number) {
  const { width, height, quality } = IMAGE_SIZES[size];
  // Drawn small, then upscaled with noise: cheap to make, yet not trivially compressible.
  const w = Math.round(width / 8);
  const h = Math.round(height / 8);
  const hue = (seed * 47) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="hsl(${hue},60%,70%)"/><stop offset="1" stop-color="hsl(${(hue + 120) % 360},50%,25%)"/>
    </linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${(seed * 13) % w}" cy="${(seed * 7) % h}" r="${h / 4}" fill="hsl(${(hue + 200) % 360},70%,50%)"/>
    <rect x="${w / 3}" y="${h / 3}" width="${w / 4}" height="${h / 5}" fill="hsl(${(hue + 60) % 360},80%,60%)" transform="rotate(${seed % 40} ${w / 2} ${h / 2})"/>
  </svg>`;
  const base = await sharp(Buffer.from(svg))
    .resize(width, height, { kernel: "cubic" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pixels = base.data;
  let state = seed + 1;
  for (let i = 0; i < pixels.length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    pixels[i] = Math.max(0, Math.min(255, pixels[i] + ((state >> 16) % 13) - 6));
  }
  const tmp = `${path}.tmp`;
  await sharp(pixels, { raw: { width, height, channels: base.info.channels } })
    .jpeg({ quality })
    .toFile(tmp);
  await rename(tmp, path);
}
