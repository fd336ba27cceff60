/**
 * Reads a Hugging Face `preprocessor_config.json` into the `PixelSpec` that
 * `preprocess.ts` applies. Covers the CLIP, ViT and ConvNeXt/ResNet conventions.
 */
import type { PixelSpec, ResizeKernel } from "./preprocess.js";

type Size = number | { shortest_edge?: number; height?: number; width?: number };

export interface PreprocessorConfig {
  image_processor_type?: string;
  feature_extractor_type?: string;
  do_resize?: boolean;
  size?: Size;
  resample?: number;
  do_center_crop?: boolean;
  crop_size?: Size;
  crop_pct?: number;
  do_rescale?: boolean;
  rescale_factor?: number;
  do_normalize?: boolean;
  image_mean?: number[] | number;
  image_std?: number[] | number;
}

/** PIL resampling codes, as stored in `resample`, to sharp kernels. */
const KERNELS: Record<number, ResizeKernel> = { 0: "nearest", 1: "lanczos3", 2: "linear", 3: "cubic" };

export function pixelSpecFromConfig(config: PreprocessorConfig): PixelSpec {
  const kind = `${config.image_processor_type ?? ""} ${config.feature_extractor_type ?? ""}`;
  // A bare number means "shortest edge" for CLIP-style processors and "square" for ViT-style ones.
  const shortestEdgeByDefault = /CLIP|Chinese|ConvNext|Bit/i.test(kind) || config.do_center_crop === true;
  const size = config.size ?? 224;

  let shortestEdge: number | null = null;
  let resizeTo: { width: number; height: number } | null = null;
  if (config.do_resize !== false) {
    if (typeof size === "number") {
      if (shortestEdgeByDefault) shortestEdge = size;
      else resizeTo = { width: size, height: size };
    } else if (size.shortest_edge !== undefined) {
      shortestEdge = size.shortest_edge;
    } else if (size.height !== undefined && size.width !== undefined) {
      resizeTo = { width: size.width, height: size.height };
    } else {
      throw new Error(`unsupported "size" in preprocessor config: ${JSON.stringify(size)}`);
    }
  }

  let crop: { width: number; height: number } | null = null;
  if (config.do_center_crop) {
    const c = config.crop_size ?? size;
    crop =
      typeof c === "number"
        ? { width: c, height: c }
        : { width: c.width ?? c.shortest_edge!, height: c.height ?? c.shortest_edge! };
  }
  // ConvNeXt-style: resize to shortest_edge / crop_pct, then crop shortest_edge.
  if (config.crop_pct !== undefined && shortestEdge !== null && shortestEdge < 384) {
    crop = { width: shortestEdge, height: shortestEdge };
    shortestEdge = Math.floor(shortestEdge / config.crop_pct);
  }

  const triple = (v: number[] | number | undefined, fallback: number): [number, number, number] =>
    v === undefined ? [fallback, fallback, fallback] : typeof v === "number" ? [v, v, v] : [v[0], v[1], v[2]];
  const normalize = config.do_normalize !== false;
  return {
    shortestEdge,
    resizeTo,
    crop,
    kernel: KERNELS[config.resample ?? 3] ?? "cubic",
    rescale: config.do_rescale === false ? 1 : (config.rescale_factor ?? 1 / 255),
    mean: normalize ? triple(config.image_mean, 0.5) : [0, 0, 0],
    std: normalize ? triple(config.image_std, 0.5) : [1, 1, 1],
  };
}
