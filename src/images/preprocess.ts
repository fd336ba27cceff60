/**
 * Decodes an image and turns it into the model's `pixel_values` with sharp, following
 * the semantics of Hugging Face's `CLIPImageProcessor`: orient, convert to RGB, resize
 * the shortest edge (bicubic), centre-crop, rescale and normalise.
 *
 * It is done here rather than through transformers.js' processor because sharp can
 * shrink a JPEG while decoding it (a 12 MP photo never lives in memory at full size)
 * and writes straight into the batch's Float32Array.
 */
import { ImageInputError } from "../errors.js";
import { loadSharp } from "../utils/imports.js";
import type { LoadedImage } from "./image_input.js";

export type ResizeKernel = "nearest" | "linear" | "cubic" | "lanczos3";

/** What the model expects, read from `preprocessor_config.json` by `pixel_spec.ts`. */
export interface PixelSpec {
  /** Resize so the shortest edge has this length; `null` resizes straight to `resizeTo`. */
  shortestEdge: number | null;
  /** Exact resize target when `shortestEdge` is null (e.g. ViT's `{height: 224, width: 224}`). */
  resizeTo: { width: number; height: number } | null;
  /** Resampling kernel for the resize: PIL's bicubic for CLIP is sharp's "cubic" (Catmull-Rom). */
  kernel: ResizeKernel;
  /** Centre crop to this size, or `null` for no crop. */
  crop: { width: number; height: number } | null;
  /** Multiplier applied to 0-255 values (1/255), or 1 when rescaling is off. */
  rescale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

export interface DecodeLimits {
  /** Refuse images with more pixels than this, read from the header before decoding. */
  maxInputPixels: number;
}

/** The decoded, model-ready image and what we learned about the original. */
export interface PreparedImage {
  /** CHW float32, length 3 * height * width of the model input. */
  pixels: Float32Array;
  /** Size of the original after EXIF orientation. */
  width: number;
  height: number;
  /** The sharp format name ("jpeg", "png", ...) or "raw". */
  format: string;
}

/** Output width and height of the model input. */
export function inputSize(spec: PixelSpec): { width: number; height: number } {
  if (spec.crop) return spec.crop;
  if (spec.resizeTo) return spec.resizeTo;
  throw new Error("preprocessor config has neither crop_size nor an exact size; cannot infer the input size");
}

export async function prepareImage(
  image: LoadedImage,
  spec: PixelSpec,
  limits: DecodeLimits,
  name: string,
  index?: number,
): Promise<PreparedImage> {
  const sharpInput =
    image.kind === "raw"
      ? { raw: { width: image.pixels.width, height: image.pixels.height, channels: image.pixels.channels } }
      : {};
  const source =
    image.kind === "raw"
      ? Buffer.from(image.pixels.data.buffer, image.pixels.data.byteOffset, image.pixels.data.byteLength)
      : image.bytes;
  if (source.length === 0) throw new ImageInputError(name, "empty file (0 bytes)", "UNSUPPORTED_FORMAT", index);
  if (image.kind === "encoded" && looksLikeSvg(source)) {
    // librsvg would render it, but SVG is a document, not a photo: scripts, external
    // references, entity expansion. Refused before any parser sees it.
    throw new ImageInputError(name, "SVG is not supported as an image input", "UNSUPPORTED_FORMAT", index);
  }

  // `animated: false` takes the first frame of GIF/WebP; `limitInputPixels` is checked
  // against the header, so a decompression bomb is refused before any pixel is decoded.
  const sharp = await loadSharp();
  const open = () => sharp(source, { ...sharpInput, limitInputPixels: limits.maxInputPixels, animated: false });

  try {
    const meta = await open().metadata();
    const swap = (meta.orientation ?? 1) >= 5; // orientations 5-8 rotate by 90 degrees
    const width = (swap ? meta.height : meta.width) ?? 0;
    const height = (swap ? meta.width : meta.height) ?? 0;
    if (!width || !height) throw new ImageInputError(name, "image has no dimensions", "CORRUPT_IMAGE", index);

    const plan = planResize(width, height, spec);
    let pipeline = open().autoOrient();
    if (plan.resize.width !== width || plan.resize.height !== height) {
      pipeline = pipeline.resize(plan.resize.width, plan.resize.height, { kernel: spec.kernel, fit: "fill" });
    }
    if (plan.crop) pipeline = pipeline.extract(plan.crop);
    const { data, info } = await pipeline
      .toColourspace("srgb")
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new ImageInputError(name, `decoded to ${info.channels} channels, expected 3`, "CORRUPT_IMAGE", index);
    }
    return { pixels: normalise(data, info.width, info.height, spec), width, height, format: meta.format ?? "raw" };
  } catch (error) {
    if (error instanceof ImageInputError) throw error;
    throw classifySharpError(error as Error, name, index, limits);
  }
}

function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes
    .subarray(0, 512)
    .toString("utf8")
    .replace(/^\uFEFF/, "")
    .trimStart()
    .toLowerCase();
  return (
    head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg")) || head.startsWith("<!doctype svg")
  );
}

interface ResizePlan {
  resize: { width: number; height: number };
  crop: { left: number; top: number; width: number; height: number } | null;
}

/** The same arithmetic as `transformers` (Python): int() on the long side, floor-halved crop offsets. */
export function planResize(width: number, height: number, spec: PixelSpec): ResizePlan {
  let resize: { width: number; height: number };
  if (spec.shortestEdge !== null) {
    const s = spec.shortestEdge;
    resize =
      width <= height
        ? { width: s, height: Math.floor((s * height) / width) }
        : { width: Math.floor((s * width) / height), height: s };
  } else if (spec.resizeTo) {
    resize = spec.resizeTo;
  } else {
    resize = { width, height };
  }
  if (!spec.crop) return { resize, crop: null };
  const { width: cw, height: ch } = spec.crop;
  if (cw > resize.width || ch > resize.height) {
    // The Python processor pads with zeros here; a shortest-edge resize to the crop size never needs it.
    throw new Error(`crop ${cw}x${ch} is larger than the resized image ${resize.width}x${resize.height}`);
  }
  if (cw === resize.width && ch === resize.height) return { resize, crop: null };
  return {
    resize,
    crop: {
      left: Math.floor((resize.width - cw) / 2),
      top: Math.floor((resize.height - ch) / 2),
      width: cw,
      height: ch,
    },
  };
}

/** Interleaved RGB bytes to planar, rescaled, normalised floats. */
function normalise(rgb: Buffer, width: number, height: number, spec: PixelSpec): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const scale = spec.rescale / spec.std[c];
    const shift = spec.mean[c] / spec.std[c];
    const offset = c * plane;
    for (let i = 0; i < plane; i++) out[offset + i] = rgb[3 * i + c] * scale - shift;
  }
  return out;
}

function classifySharpError(
  error: Error,
  name: string,
  index: number | undefined,
  limits: DecodeLimits,
): ImageInputError {
  const message = error.message ?? String(error);
  if (/pixel limit/i.test(message)) {
    return new ImageInputError(
      name,
      `image is larger than maxInputPixels (${limits.maxInputPixels} pixels); refused before decoding`,
      "TOO_LARGE",
      index,
      { cause: error },
    );
  }
  if (/unsupported image format/i.test(message)) {
    return new ImageInputError(name, "not an image in a format we can decode", "UNSUPPORTED_FORMAT", index, {
      cause: error,
    });
  }
  // libvips reports truncation and corruption in many words; keep its first line as the reason.
  const first = message.split("\n").find((line) => line.trim()) ?? "unknown decoder error";
  return new ImageInputError(name, `corrupt or truncated image (${first.trim()})`, "CORRUPT_IMAGE", index, {
    cause: error,
  });
}
