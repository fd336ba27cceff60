/**
 * Where a model comes from: a directory on disk or a Hugging Face Hub id. Both go
 * through the same transformers.js loader; this file only decides which, and builds
 * the per-call loading options (no global `env` is touched).
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ModelLoadError } from "../errors.js";
import { loadTransformers } from "../utils/imports.js";

/** Weight precisions; each maps to an ONNX file suffix (fp32 → `model.onnx`, q8 → `model_quantized.onnx`, ...). */
export type ModelDtype = "fp32" | "fp16" | "q8" | "int8" | "uint8" | "q4" | "bnb4" | "q4f16";

/** Progress events emitted while model files are located and downloaded (transformers.js' own events). */
export interface ModelLoadProgress {
  status: string;
  name?: string;
  file?: string;
  progress?: number;
  loaded?: number;
  total?: number;
}

export interface ModelSourceOptions {
  model: string;
  dtype: ModelDtype;
  localFilesOnly: boolean;
  cacheDir?: string;
  revision?: string;
  /** onnxruntime session options, passed through (threads, graph optimisation, ...). */
  sessionOptions: Record<string, unknown>;
  /** Inference workers a `WorkerRunner` spreads batches over (worker_runner.ts). Default: 1. */
  workers?: number;
  progressCallback?: (event: ModelLoadProgress) => void;
}

export interface ResolvedModelSource {
  /** What transformers.js receives: an absolute directory path, or a Hub id. */
  id: string;
  isLocal: boolean;
  /**
   * For error messages: where the files were looked for. Set for a local directory; for a
   * Hub id it is described when an error needs it (from transformers.js' settings, which
   * are not loaded before then).
   */
  lookedIn?: string;
}

/**
 * A string that names an existing directory (absolute, relative, or a `file:` URL) is local. transformers.js would otherwise read "models/foo" as a Hub id.
 */
export function resolveModelSource(options: ModelSourceOptions): ResolvedModelSource {
  const raw = options.model.startsWith("file:") ? fileURLToPath(options.model) : options.model;
  const candidate = isAbsolute(raw) ? raw : resolve(raw);
  if (existsSync(candidate) && statSync(candidate).isDirectory()) {
    return { id: candidate, isLocal: true, lookedIn: `the local directory ${candidate}` };
  }
  if (isAbsolute(raw) || raw.startsWith(".")) {
    // Clearly meant as a path: never turn a typo into a Hub download.
    return { id: candidate, isLocal: true, lookedIn: `the local directory ${candidate} (which does not exist)` };
  }
  return { id: raw, isLocal: false };
}

/** Where a Hub model's files are looked for: the Hub (unless localFilesOnly) and the cache. */
async function hubPlaces(options: ModelSourceOptions): Promise<string> {
  const env = await loadTransformers().then(
    (transformers) => transformers.env,
    () => undefined,
  );
  const cache = options.cacheDir ?? env?.cacheDir ?? "the transformers.js cache";
  return options.localFilesOnly
    ? `the cache ${cache} only (localFilesOnly is set)`
    : `the Hugging Face Hub (${env?.remoteHost ?? "https://huggingface.co/"}) and the cache ${cache}`;
}

/**
 * Where the tokenizer loads from. transformers.js 4.3 first checks that
 * `tokenizer_config.json` exists without the caller's options (`cache_dir`,
 * `local_files_only`): a Hub model cached in a custom `cacheDir` is then looked for on the
 * Hub, and fails offline. A model found in that cache loads from its folder there, as a
 * local directory (transformers.js' file cache keeps `<id>/<file>`, or
 * `<id>/<revision>/<file>` for a revision other than main).
 */
export function tokenizerSource(options: ModelSourceOptions, source: ResolvedModelSource): ResolvedModelSource {
  if (source.isLocal || options.cacheDir === undefined) return source;
  const revision = options.revision ?? "main";
  const folder = revision === "main" ? join(options.cacheDir, source.id) : join(options.cacheDir, source.id, revision);
  if (!existsSync(join(folder, "tokenizer_config.json"))) return source;
  return { id: folder, isLocal: true, lookedIn: source.lookedIn };
}

/** Options for transformers.js `from_pretrained`, identical for towers, tokenizer and processor. */
export function pretrainedOptions(options: ModelSourceOptions, source: ResolvedModelSource) {
  return {
    local_files_only: source.isLocal || options.localFilesOnly,
    cache_dir: options.cacheDir,
    revision: options.revision,
    progress_callback: options.progressCallback,
    device: "cpu" as const,
    dtype: options.dtype,
    session_options: options.sessionOptions,
  };
}

/** Runs a load step, turning any failure but a missing or conflicting transformers.js into a ModelLoadError that names the model, where it was looked for, and the step. */
export async function withModelLoadErrors<T>(
  options: ModelSourceOptions,
  source: ResolvedModelSource,
  what: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    // transformers.js itself missing, the wrong version or a second onnxruntime: not this model's fault.
    // (By name: from an inference worker they come back as plain Errors with their name.)
    const name = (error as Error)?.name;
    if (name === "MissingDependencyError" || name === "DependencyConflictError") throw error;
    const detail = (error as Error).message?.split("\n")[0] ?? String(error);
    const lookedIn = source.lookedIn ?? (await hubPlaces(options));
    throw new ModelLoadError(options.model, lookedIn, `${what}: ${detail}`, { cause: error });
  }
}
