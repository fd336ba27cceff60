/**
 * Draws coloured-shape sample images with SVG rasterised by sharp: a generator that
 * tiny-clip never saw in training (it was trained on PIL drawings).
 */
import sharp from "sharp";
import { seededRandom } from "../../src/heads/random.js";

export const COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"] as const;
export const SHAPES = ["circle", "square", "triangle", "star"] as const;
export type Colour = (typeof COLOURS)[number];
export type Shape = (typeof SHAPES)[number];
export const CLASSES = COLOURS.flatMap((colour) =>
  SHAPES.map((shape) => ({ colour, shape, label: `${colour} ${shape}` })),
);

const FILLS: Record<Colour, string[]> = {
  red: ["#e01010", "#ff2020", "#c41e1e"],
  green: ["#18a018", "#20c040", "#2e8b2e"],
  blue: ["#1830e0", "#2050ff", "#1c3fb0"],
  yellow: ["#f0e010", "#ffe82a", "#e8d820"],
  purple: ["#8a20b0", "#9b30d0", "#7a1a9a"],
  orange: ["#ff8c10", "#f07a00", "#ff9a30"],
};
const BACKGROUNDS = ["#ffffff", "#f2f2f2", "#d8d8d8", "#202020", "#8a8a8a", "#f5efe0"];

/** A small deterministic PRNG (mulberry32) so every generated gallery is reproducible. */
export const rng = seededRandom;

export interface ShapeOptions {
  colour: Colour;
  shape: Shape;
  /** Deterministic variation: size, position, rotation, fill shade, background. */
  seed?: number;
  width?: number;
  height?: number;
}

function shapeSvg(shape: Shape, cx: number, cy: number, r: number, fill: string, rotation: number): string {
  const transform = `rotate(${rotation.toFixed(1)} ${cx} ${cy})`;
  if (shape === "circle") return `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`;
  if (shape === "square") {
    const s = r * 1.6;
    return `<rect x="${cx - s / 2}" y="${cy - s / 2}" width="${s}" height="${s}" fill="${fill}" transform="${transform}"/>`;
  }
  const points: string[] = [];
  const n = shape === "triangle" ? 3 : 10;
  for (let i = 0; i < n; i++) {
    const radius = shape === "star" && i % 2 === 1 ? r * 0.42 : r;
    const angle = -Math.PI / 2 + (i * 2 * Math.PI) / n;
    points.push(`${(cx + radius * Math.cos(angle)).toFixed(2)},${(cy + radius * Math.sin(angle)).toFixed(2)}`);
  }
  return `<polygon points="${points.join(" ")}" fill="${fill}" transform="${transform}"/>`;
}

/** Renders one shape as PNG bytes. */
export async function renderShape(options: ShapeOptions): Promise<Buffer> {
  const random = rng(options.seed ?? 1);
  const width = options.width ?? 256;
  const height = options.height ?? 256;
  const side = Math.min(width, height);
  const r = side * (0.22 + random() * 0.16);
  const cx = width / 2 + (random() - 0.5) * (side / 2 - r) * 0.8;
  const cy = height / 2 + (random() - 0.5) * (side / 2 - r) * 0.8;
  const fills = FILLS[options.colour];
  const fill = fills[Math.floor(random() * fills.length)];
  const background = BACKGROUNDS[Math.floor(random() * BACKGROUNDS.length)];
  const rotation = (random() - 0.5) * 40;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="${background}"/>` +
    shapeSvg(options.shape, cx, cy, r, fill, rotation) +
    `</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
