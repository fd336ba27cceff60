/**
 * CLIP's two towers behind small interfaces: the image tower takes a batch of
 * pixel_values, the text tower takes strings. Together with tower_runner.ts this is the
 * only code that talks to transformers.js, so the rest of the package never sees its
 * tensors.
 *
 * Each tower (with its processor or tokenizer) loads on first use. A failed load is
 * forgotten, so the next call tries again. The ONNX sessions run through a
 * `TowerRunner`: in a worker thread by default, or on this thread.
 */
import { AutoConfig, AutoImageProcessor, AutoTokenizer, type PreTrainedTokenizer } from "@huggingface/transformers";
import { pixelSpecFromConfig, type PreprocessorConfig } from "../images/pixel_spec.js";
import { inputSize, type PixelSpec } from "../images/preprocess.js";
import { Lazy } from "../utils/lazy.js";
import {
  pretrainedOptions,
  resolveModelSource,
  tokenizerSource,
  withModelLoadErrors,
  type ModelSourceOptions,
  type ResolvedModelSource,
} from "./model_source.js";
import { InProcessRunner, type TowerRunner } from "./tower_runner.js";
import { WorkerRunner } from "./worker_runner.js";

/** Where the ONNX sessions run: `"worker"`, a worker thread (the event loop stays free), or `"main"`, the calling thread. */
export type InferenceThread = "worker" | "main";

export interface ImageTower {
  spec: PixelSpec;
  /** Number of floats in one image's pixel_values (3 × height × width). */
  pixelsPerImage: number;
  /** Runs `batch` images laid end to end in `pixels`; returns `batch` rows of the embedding, flat. */
  embed(pixels: Float32Array, batch: number): Promise<Float32Array>;
}

export interface TextTower {
  /** Token ids exactly as the model sees them: special tokens added, truncated to the context. */
  tokenize(texts: string[]): number[][];
  /** Embeds a batch, padded to its longest text; returns one row per text, flat. */
  embed(texts: string[]): Promise<Float32Array>;
}

/** What ImageEmbeddings needs from a model: CLIP's two towers here, an image-only backbone in src/encoders. */
export interface Towers {
  readonly source: ResolvedModelSource;
  imageTower(): Promise<ImageTower>;
  textTower(): Promise<TextTower>;
  /** The embedding size, from `config.json` alone (no weights are loaded). */
  embeddingDimension(): Promise<number>;
  dispose(): Promise<void>;
}

/** Makes the towers for a model; ImageEncoderEmbeddings passes its own. */
export type TowersFactory = (options: ModelSourceOptions, inference: InferenceThread) => Towers;

export class ClipTowers implements Towers {
  readonly source: ResolvedModelSource;
  private readonly image = new Lazy(() => this.loadImageTower());
  private readonly text = new Lazy(() => this.loadTextTower());
  private readonly dimension = new Lazy(() => this.loadDimension());
  private readonly runner: TowerRunner;

  constructor(
    private readonly options: ModelSourceOptions,
    inference: InferenceThread = "worker",
  ) {
    this.source = resolveModelSource(options);
    this.runner =
      inference === "worker"
        ? new WorkerRunner(options, this.source, options.workers)
        : new InProcessRunner(options, this.source);
  }

  imageTower(): Promise<ImageTower> {
    return this.image.get();
  }

  textTower(): Promise<TextTower> {
    return this.text.get();
  }

  /** The embedding size, from `config.json` alone (no weights are loaded). */
  embeddingDimension(): Promise<number> {
    return this.dimension.get();
  }

  async dispose(): Promise<void> {
    this.image.reset();
    this.text.reset();
    await this.runner.dispose();
  }

  private withLoadErrors<T>(what: string, load: () => Promise<T>): Promise<T> {
    return withModelLoadErrors(this.options, this.source, what, load);
  }

  private async loadDimension(): Promise<number> {
    return this.withLoadErrors("reading config.json", async () => {
      const config = (await AutoConfig.from_pretrained(
        this.source.id,
        pretrainedOptions(this.options, this.source),
      )) as unknown as {
        projection_dim?: number;
      };
      if (!config.projection_dim) throw new Error("config.json has no projection_dim; is this a CLIP model?");
      return config.projection_dim;
    });
  }

  private async loadImageTower(): Promise<ImageTower> {
    const loadOptions = pretrainedOptions(this.options, this.source);
    // The image processor alone: AutoProcessor would load CLIP's tokenizer too.
    const [, processor] = await this.withLoadErrors("loading the image tower", () =>
      allSettled(this.runner.load("vision"), AutoImageProcessor.from_pretrained(this.source.id, loadOptions)),
    );
    const spec = pixelSpecFromConfig((processor as unknown as { config: PreprocessorConfig }).config);
    const { width, height } = inputSize(spec);
    return {
      spec,
      pixelsPerImage: 3 * width * height,
      embed: (pixels, batch) => this.runner.runVision(pixels, [batch, 3, height, width]),
    };
  }

  private async loadTextTower(): Promise<TextTower> {
    const tokenizerFrom = tokenizerSource(this.options, this.source);
    const loadOptions = pretrainedOptions(this.options, tokenizerFrom);
    const [info, tokenizer] = await this.withLoadErrors("loading the text tower", () =>
      allSettled(this.runner.load("text"), AutoTokenizer.from_pretrained(tokenizerFrom.id, loadOptions)),
    );
    const maxLength = Math.min(tokenizer.model_max_length ?? Infinity, info.maxPositionEmbeddings ?? Infinity);
    const tokenize = (texts: string[]) =>
      texts.map((t) => truncateKeepingEos(tokenizer, tokenizer.encode(t), maxLength));
    return {
      tokenize,
      embed: (texts) => {
        const { inputIds, attentionMask, dims } = padBatch(tokenize(texts), tokenizer.pad_token_id ?? 0);
        return this.runner.runText(inputIds, attentionMask, dims);
      },
    };
  }
}

/**
 * Both loads, settled before either failure is thrown: transformers.js 4 shares a file
 * load still in flight with the next caller, who would then get none of its progress events.
 */
async function allSettled<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === "rejected") throw first.reason;
  if (second.status === "rejected") throw second.reason;
  return [first.value, second.value];
}

/**
 * CLIP pools the hidden state at the end-of-text token, so truncation must keep it:
 * `[BOS, t1 … t75, EOS]`, as Python's tokenizer does. (transformers.js' own truncation
 * cuts after special tokens are added, which drops the EOS.)
 */
function truncateKeepingEos(tokenizer: PreTrainedTokenizer, ids: number[], maxLength: number): number[] {
  if (!Number.isFinite(maxLength) || ids.length <= maxLength) return ids;
  const eos = (tokenizer as unknown as { eos_token_id?: number }).eos_token_id;
  const last = ids[ids.length - 1];
  return last === eos ? [...ids.slice(0, maxLength - 1), last] : ids.slice(0, maxLength);
}

/** Pads to the longest sequence in this batch only (never to the full context). */
function padBatch(sequences: number[][], padId: number) {
  const length = Math.max(...sequences.map((s) => s.length));
  const ids = new BigInt64Array(sequences.length * length).fill(BigInt(padId));
  const mask = new BigInt64Array(sequences.length * length);
  sequences.forEach((sequence, row) => {
    sequence.forEach((id, col) => {
      ids[row * length + col] = BigInt(id);
      mask[row * length + col] = 1n;
    });
  });
  return { inputIds: ids, attentionMask: mask, dims: [sequences.length, length] as [number, number] };
}
