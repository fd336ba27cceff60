import { createHash } from "node:crypto";
import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { chunkArray } from "@langchain/core/utils/chunk_array";
import { ImageBatchError, ImageInputError } from "../errors.js";
import { describeInput, readImageInput, type ImageInput, type LoadedImage } from "../images/image_input.js";
import { prepareImage } from "../images/preprocess.js";
import { REMOTE_FETCH_DEFAULTS } from "../images/remote_fetch.js";
import { ClipTowers } from "../models/clip_towers.js";
import type { ImageTower, InferenceThread, Towers, TowersFactory } from "../models/towers.js";
import { physicalCoreCount } from "../models/cpu_cores.js";
import type { ModelDtype, ModelLoadProgress } from "../models/model_source.js";
import { loadProjectionHead } from "../heads/head_file.js";
import { ProjectionHead } from "../heads/projection_head.js";
import { normalizeInPlace, splitRows } from "../utils/vectors.js";

export const DEFAULT_MODEL = "Xenova/clip-vit-base-patch32";

export interface ImageEmbeddingsParams extends EmbeddingsParams {
  /** A Hugging Face Hub id or a local model directory. Default: `"Xenova/clip-vit-base-patch32"`. */
  model?: string;
  /** Weight precision, choosing which ONNX file is loaded (`q8` → `*_quantized.onnx`). Default: `"fp32"`. */
  dtype?: ModelDtype;
  /** Never download; use only a local directory or files already in the cache. Default: `false`. */
  localFilesOnly?: boolean;
  /** Where downloaded models are cached. Default: transformers.js' cache (`node_modules/@huggingface/transformers/.cache`). */
  cacheDir?: string;
  /** Hub revision (branch, tag or commit). Default: `"main"`. */
  revision?: string;
  /** Scale every vector to unit length, so inner product is cosine similarity. Default: `true`. */
  normalize?: boolean;
  /** Images or texts per model call. Batches run one after another, so memory stays bounded. Default: `16`. */
  batchSize?: number;
  /**
   * onnxruntime intra-op threads, per inference worker. Default: the physical cores this
   * process may use (see models/cpu_cores.ts), shared out among `workers` (at least 1 each).
   */
  threads?: number;
  /**
   * Inference workers (with `inference: "worker"`). Each holds its own copy of the weights
   * and gets its share of the cores as threads; batches go to whichever is free, so up to
   * `workers` batches compute at once. Output order and per-item errors are the same for
   * any number. See docs/benchmarks.md for when more than one pays off. Default: `1`.
   */
  workers?: number;
  /**
   * Where the model runs. `"worker"`: a worker thread, so the event loop stays free while
   * a batch is computed (onnxruntime blocks the thread it runs on, about 0.5 s per batch
   * of 8 on ViT-B/32). `"main"`: the calling thread, which saves starting a thread and
   * sees transformers.js' global `env` settings (a worker has its own). Default: `"worker"`.
   */
  inference?: InferenceThread;
  /**
   * A trained projection head (see `trainProjectionHead`), or the path of its file,
   * applied to every image and text vector after the encoder, to the unit-length vector it
   * was trained on. Its output is unit length.
   * Stores record which head built them and refuse another. Default: none.
   */
  projectionHead?: ProjectionHead | string;
  /** Extra onnxruntime session options, merged over the defaults (`graphOptimizationLevel: "all"`). */
  sessionOptions?: Record<string, unknown>;
  /** Called with transformers.js' progress events while model files load or download. */
  progressCallback?: (event: ModelLoadProgress) => void;
  /** Refuse images with more pixels than this; checked from the header before decoding. Default: 100 million. */
  maxInputPixels?: number;
  /** Accept http(s) URLs as image inputs. Default: `true`. */
  allowRemote?: boolean;
  /** Timeout for downloading one image URL, in milliseconds. Default: `30000`. */
  fetchTimeoutMs?: number;
  /** Largest image download accepted, in bytes. Default: 50 MiB. */
  maxDownloadBytes?: number;
  /** Redirects followed when downloading an image. Default: `5`. */
  maxRedirects?: number;
}

/** What was learned about an image while embedding it. */
export interface ImageInfo {
  /** The path or URL it was read from; undefined for bytes, base64 and pixels. */
  source?: string;
  /** Size after EXIF orientation. */
  width: number;
  height: number;
  /** Decoder format name ("jpeg", "png", "webp", ...) or "raw" for pixels. */
  format: string;
  /** SHA-256 (hex) of the encoded bytes, or of the raw pixels and their shape. */
  contentHash: string;
}

/** One entry of `embedImagesSettled`: a vector, or the error for that input. */
export type ImageEmbeddingResult =
  | { index: number; embedding: number[]; image: ImageInfo; error?: undefined }
  | { index: number; embedding?: undefined; image?: undefined; error: ImageInputError };

export interface EmbedImagesOptions {
  /** Stop at the first bad input instead of trying them all. Default: `false`. */
  failFast?: boolean;
}

/**
 * LangChain embeddings for images and text with a CLIP model, run locally through
 * transformers.js and onnxruntime-node. Text goes through the text tower
 * (`embedQuery`, `embedDocuments`); images through the image tower (`embedImage`,
 * `embedImages`). Both land in the same space, so a text can find an image.
 *
 * @example
 * ```typescript
 * const embeddings = new ImageEmbeddings({ model: "Xenova/clip-vit-base-patch32" });
 * const [cat] = await embeddings.embedImages(["photos/cat.jpg"]);
 * const query = await embeddings.embedQuery("a photo of a cat");
 * // cosine similarity: the vectors are unit length
 * console.log(cat.reduce((s, x, i) => s + x * query[i], 0)); // 0.29
 * ```
 */
export class ImageEmbeddings extends Embeddings {
  static lc_name() {
    return "ImageEmbeddings";
  }

  model = DEFAULT_MODEL;
  dtype: ModelDtype = "fp32";
  normalize = true;
  batchSize = 16;
  maxInputPixels = 100_000_000;
  inference: InferenceThread = "worker";
  workers = 1;
  /** The head applied after the encoder, if any. */
  readonly projectionHead?: ProjectionHead;

  private readonly towers: Towers;
  private readonly fetchOptions;

  /** `towers` is for subclasses with another kind of model (see ImageEncoderEmbeddings). */
  constructor(
    fields: ImageEmbeddingsParams = {},
    towers: TowersFactory = (options, inference) => new ClipTowers(options, inference),
  ) {
    // Local inference fails the same way twice: retrying only doubles the wait.
    super({ maxRetries: 0, ...fields });
    this.model = fields.model ?? this.model;
    this.dtype = fields.dtype ?? this.dtype;
    this.normalize = fields.normalize ?? this.normalize;
    this.batchSize = checkPositiveInteger("batchSize", fields.batchSize ?? this.batchSize);
    this.maxInputPixels = checkPositiveInteger("maxInputPixels", fields.maxInputPixels ?? this.maxInputPixels);
    if (fields.threads !== undefined) checkPositiveInteger("threads", fields.threads);
    this.inference = fields.inference ?? this.inference;
    const head = fields.projectionHead;
    this.projectionHead = typeof head === "string" ? loadProjectionHead(head) : head;
    if (this.projectionHead !== undefined && !(this.projectionHead instanceof ProjectionHead)) {
      throw new TypeError("Expected a ProjectionHead or the path of a head file for projectionHead");
    }
    if (this.inference !== "worker" && this.inference !== "main") {
      throw new TypeError(`Expected "worker" or "main" for inference but received ${JSON.stringify(fields.inference)}`);
    }
    this.workers = checkPositiveInteger("workers", fields.workers ?? this.workers);
    if (this.workers > 1 && this.inference !== "worker") {
      throw new TypeError(`workers: ${this.workers} needs inference: "worker" (the main thread is one thread)`);
    }
    if (typeof this.model !== "string" || this.model.trim() === "") {
      throw new TypeError(`Expected a Hub id or directory for model but received ${JSON.stringify(fields.model)}`);
    }
    this.fetchOptions = {
      allowRemote: fields.allowRemote ?? REMOTE_FETCH_DEFAULTS.allowRemote,
      fetchTimeoutMs: checkPositiveInteger(
        "fetchTimeoutMs",
        fields.fetchTimeoutMs ?? REMOTE_FETCH_DEFAULTS.fetchTimeoutMs,
      ),
      maxDownloadBytes: checkPositiveInteger(
        "maxDownloadBytes",
        fields.maxDownloadBytes ?? REMOTE_FETCH_DEFAULTS.maxDownloadBytes,
      ),
      maxRedirects: checkNonNegativeInteger("maxRedirects", fields.maxRedirects ?? REMOTE_FETCH_DEFAULTS.maxRedirects),
    };
    this.towers = towers(
      {
        model: this.model,
        dtype: this.dtype,
        localFilesOnly: fields.localFilesOnly ?? false,
        cacheDir: fields.cacheDir,
        revision: fields.revision,
        progressCallback: fields.progressCallback,
        workers: this.workers,
        sessionOptions: {
          graphOptimizationLevel: "all",
          intraOpNumThreads: fields.threads ?? Math.max(1, Math.floor(physicalCoreCount() / this.workers)),
          // onnxruntime's arena keeps every buffer it ever grew to: indexing 1,500 images with
          // ViT-B/32 took RSS from 1,102 to 1,222 MB and rising with it, 891-907 MB without. It
          // costs about 6% of throughput (26.7 against 28.4 images/s, three interleaved runs);
          // sessionOptions: { enableCpuMemArena: true } trades the memory back for it.
          enableCpuMemArena: false,
          ...fields.sessionOptions,
        },
      },
      this.inference,
    );
  }

  /** The length of every vector this model returns (the head's output, if there is one). Reads only `config.json`. */
  async getDimension(): Promise<number> {
    return this.projectionHead?.shape.outputDim ?? this.towers.embeddingDimension();
  }

  /** Embeds one text with the text tower. */
  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([text]);
    return vector;
  }

  /** Embeds texts with the text tower, `batchSize` at a time, each batch padded to its longest text (texts of similar length are batched together). */
  async embedDocuments(texts: string[]): Promise<number[][]> {
    texts.forEach((t, i) => {
      if (typeof t !== "string") throw new TypeError(`Expected a string for texts[${i}] but received ${typeof t}`);
    });
    const tower = await this.towers.textTower();
    // Batch texts of similar token counts together: each batch is padded to its longest
    // text, so sorting by length wastes the least compute on padding.
    const lengths = tower.tokenize(texts).map((ids) => ids.length);
    const order = texts.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
    const vectors: number[][] = new Array(texts.length);
    const running: Promise<void>[] = [];
    for (const batch of chunkArray(order, this.batchSize)) {
      // Up to `workers` batches at once, one per inference worker.
      if (running.length === this.workers) await running.shift();
      running.push(
        settledLater(
          this.caller
            .call(() => tower.embed(batch.map((i) => texts[i])))
            .then((flat) => this.finish(flat, batch.length))
            .then((rows) => rows.forEach((vector, j) => (vectors[batch[j]] = vector))),
        ),
      );
    }
    for (const batch of running) await batch;
    return vectors;
  }

  /** Token ids the text tower sees for each text (special tokens added, truncated to the context). */
  async tokenize(texts: string[]): Promise<number[][]> {
    return (await this.towers.textTower()).tokenize(texts);
  }

  /** Embeds one image. Throws `ImageInputError` naming the input when it cannot be read or decoded. */
  async embedImage(input: ImageInput): Promise<number[]> {
    const [result] = await this.settle([input], { failFast: true }, false);
    if (result.error) throw result.error;
    return result.embedding;
  }

  /**
   * Embeds images `batchSize` at a time. If any input is bad, rejects with an
   * `ImageBatchError` that lists every bad input; use `embedImagesSettled` to keep
   * the good vectors instead.
   */
  async embedImages(inputs: ImageInput[], options: EmbedImagesOptions = {}): Promise<number[][]> {
    const results = await this.embedImagesSettled(inputs, options);
    const failures = results.flatMap((r) => (r.error ? [r.error] : []));
    if (failures.length > 0) {
      if (options.failFast) throw failures[0];
      throw new ImageBatchError(failures, inputs.length);
    }
    return results.map((r) => r.embedding!);
  }

  /**
   * Embeds images and reports each one on its own, in input order: a vector with
   * what was learned about the image, or the error that input met. A bad image
   * never costs the others their vectors, unless `failFast` is set, in which case
   * the inputs after the first failure are not attempted and not returned.
   */
  async embedImagesSettled(inputs: ImageInput[], options: EmbedImagesOptions = {}): Promise<ImageEmbeddingResult[]> {
    return this.settle(inputs, options, true);
  }

  /** Frees the onnxruntime sessions. The instance stays usable: the next call loads again. */
  async dispose(): Promise<void> {
    await this.towers.dispose();
  }

  /** `indexInErrors` is false for a single image, whose errors should not say "inputs[0]". */
  private async settle(
    inputs: ImageInput[],
    options: EmbedImagesOptions,
    indexInErrors: boolean,
  ): Promise<ImageEmbeddingResult[]> {
    if (!Array.isArray(inputs)) throw new TypeError(`Expected an array for inputs but received ${typeof inputs}`);
    if (inputs.length === 0) return [];
    const tower = await this.towers.imageTower();
    const batches = chunkArray(
      inputs.map((input, index) => ({ input, index })),
      this.batchSize,
    );
    const results: ImageEmbeddingResult[] = [];
    // Decoding runs in sharp's thread pool: start the next batch's decode before running
    // the model on this one, so the two overlap. Up to `workers` batches run at once (one
    // per inference worker) and their results are taken in order, so at most workers + 1
    // batches are in memory, and with one worker this is one batch decoding, one computing.
    const running: Promise<ImageEmbeddingResult[]>[] = [];
    let next = this.prepareBatch(batches[0], tower, indexInErrors);
    for (let b = 0; b < batches.length; b++) {
      const prepared = await next;
      const firstError = prepared.findIndex((p) => p.error);
      if (options.failFast && firstError >= 0) {
        for (const batch of running) results.push(...(await batch));
        results.push(...(await this.runBatch(prepared.slice(0, firstError + 1), tower)));
        return results;
      }
      if (b + 1 < batches.length) next = this.prepareBatch(batches[b + 1], tower, indexInErrors);
      running.push(settledLater(this.runBatch(prepared, tower)));
      if (running.length === this.workers) results.push(...(await running.shift()!));
    }
    for (const batch of running) results.push(...(await batch));
    return results;
  }

  private async prepareBatch(batch: { input: ImageInput; index: number }[], tower: ImageTower, indexInErrors: boolean) {
    return Promise.all(
      batch.map(async ({ input, index }) => {
        const at = indexInErrors ? index : undefined;
        try {
          const loaded = await readImageInput(input, this.fetchOptions, at);
          const prepared = await prepareImage(
            loaded,
            tower.spec,
            { maxInputPixels: this.maxInputPixels },
            describeInput(input, at),
            at,
          );
          const image: ImageInfo = {
            source: loaded.source,
            width: prepared.width,
            height: prepared.height,
            format: prepared.format,
            contentHash: contentHash(loaded),
          };
          return { index, pixels: prepared.pixels, image, error: undefined };
        } catch (error) {
          const wrapped =
            error instanceof ImageInputError
              ? error
              : new ImageInputError(describeInput(input, at), (error as Error).message, "CORRUPT_IMAGE", at, {
                  cause: error,
                });
          return { index, pixels: undefined, image: undefined, error: wrapped };
        }
      }),
    );
  }

  /**
   * Encoder output rows → the returned vectors: normalised as asked, or through the head
   * if there is one. A head is trained on `embedImages`' unit vectors, so it gets the
   * normalised rows too, whatever `normalize` says (the raw rows of tiny-clip have norm 11,
   * and a head with biases maps them elsewhere).
   */
  private async finish(flat: Float32Array, rows: number): Promise<number[][]> {
    const head = this.projectionHead;
    if (!head) return splitRows(flat, rows, this.normalize);
    const width = flat.length / rows;
    if (width !== head.shape.inputDim) {
      throw new Error(
        `The projection head takes ${head.shape.inputDim}-d vectors, but model "${this.model}" makes ${width}-d vectors`,
      );
    }
    // In float32, as embedImages returns them: the head sees exactly the vectors it was trained on.
    for (let r = 0; r < rows; r++) normalizeInPlace(flat.subarray(r * width, (r + 1) * width));
    // Exact float64 maths on this thread, off the inference worker's queue.
    const { z } = await head.forward(Float64Array.from(flat), rows);
    const d = head.shape.outputDim;
    return Array.from({ length: rows }, (_, r) => Array.from(z.subarray(r * d, (r + 1) * d)));
  }

  private async runBatch(
    prepared: Awaited<ReturnType<ImageEmbeddings["prepareBatch"]>>,
    tower: ImageTower,
  ): Promise<ImageEmbeddingResult[]> {
    const good = prepared.filter((p) => !p.error);
    const vectors: number[][] = [];
    if (good.length > 0) {
      const pixels = new Float32Array(good.length * tower.pixelsPerImage);
      good.forEach((p, i) => pixels.set(p.pixels!, i * tower.pixelsPerImage));
      const flat = await this.caller.call(() => tower.embed(pixels, good.length));
      vectors.push(...(await this.finish(flat, good.length)));
    }
    let g = 0;
    return prepared.map((p) =>
      p.error ? { index: p.index, error: p.error } : { index: p.index, embedding: vectors[g++], image: p.image! },
    );
  }
}

/** A promise awaited later, in order: until then its rejection must not count as unhandled. */
function settledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function contentHash(image: LoadedImage): string {
  const hash = createHash("sha256");
  if (image.kind === "encoded") return hash.update(image.bytes).digest("hex");
  const { width, height, channels, data } = image.pixels;
  return hash.update(`raw:${width}x${height}x${channels}:`).update(data).digest("hex");
}

function checkPositiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`Expected positive integer for ${name} but received ${value} of type ${typeof value}`);
  }
  return value;
}

function checkNonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(`Expected non-negative integer for ${name} but received ${value} of type ${typeof value}`);
  }
  return value;
}
