/**
 * What ImageEmbeddings needs from a model (`Towers`), and `ModelTowers`, the base every
 * model family builds on: it resolves the model's source, picks where the ONNX sessions
 * run, wraps load failures in a `ModelLoadError`, reads `config.json`, and loads an image
 * tower's weights together with its processor config, turned into a `PixelSpec`. A family
 * (clip_towers.ts, encoders/encoder_towers.ts) adds only what is its own.
 */
import { pixelSpecFromConfig, type PreprocessorConfig } from "../images/pixel_spec.js";
import { inputSize, type PixelSpec } from "../images/preprocess.js";
import { loadTransformers } from "../utils/imports.js";
import { Lazy } from "../utils/lazy.js";
import {
  pretrainedOptions,
  resolveModelSource,
  withModelLoadErrors,
  type ModelSourceOptions,
  type ResolvedModelSource,
} from "./model_source.js";
import { InProcessRunner, type Tower, type TowerRunner } from "./tower_runner.js";
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

/** What ImageEmbeddings needs from a model: CLIP's two towers, or an image-only backbone (src/encoders). */
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

/** An image tower's weights and input: what `loadImageInput` gives a family to build its `ImageTower` from. */
export interface ImageInput {
  spec: PixelSpec;
  pixelsPerImage: number;
  /** The `[batch, 3, height, width]` shape of a batch's pixel_values. */
  dims(batch: number): [number, number, number, number];
}

export abstract class ModelTowers implements Towers {
  readonly source: ResolvedModelSource;
  protected readonly runner: TowerRunner;
  private readonly image = new Lazy(() => this.loadImageTower());

  constructor(
    protected readonly options: ModelSourceOptions,
    inference: InferenceThread,
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

  abstract textTower(): Promise<TextTower>;
  abstract embeddingDimension(): Promise<number>;
  protected abstract loadImageTower(): Promise<ImageTower>;

  async dispose(): Promise<void> {
    this.image.reset();
    await this.runner.dispose();
  }

  /** Runs a load step; any failure becomes a ModelLoadError naming the model, where it looked, and `what`. */
  protected withLoadErrors<T>(what: string, load: () => Promise<T>): Promise<T> {
    return withModelLoadErrors(this.options, this.source, what, load);
  }

  /** Reads the model's `config.json` (no weights are loaded) with `read`, whose errors become load errors too. */
  protected readConfig<T, R>(read: (config: T) => R): Promise<R> {
    return this.withLoadErrors("reading config.json", async () => {
      const { AutoConfig } = await loadTransformers();
      return read((await AutoConfig.from_pretrained(this.source.id, this.loadOptions())) as unknown as T);
    });
  }

  /** Loads `tower`'s weights and, at the same time, its image processor config (`what` names the step in errors). */
  protected async loadImageInput(tower: Tower, what: string): Promise<ImageInput> {
    const [, processor] = await this.withLoadErrors(what, async () => {
      const { AutoImageProcessor } = await loadTransformers();
      return bothSettled(
        this.runner.load(tower),
        AutoImageProcessor.from_pretrained(this.source.id, this.loadOptions()),
      );
    });
    const spec = pixelSpecFromConfig((processor as unknown as { config: PreprocessorConfig }).config);
    const { width, height } = inputSize(spec);
    return { spec, pixelsPerImage: 3 * width * height, dims: (batch) => [batch, 3, height, width] };
  }

  protected loadOptions(source: ResolvedModelSource = this.source) {
    return pretrainedOptions(this.options, source);
  }
}

/**
 * Both loads, settled before either failure is thrown: transformers.js 4 shares a file
 * load still in flight with the next caller, who would then get none of its progress events.
 */
export async function bothSettled<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === "rejected") throw first.reason;
  if (second.status === "rejected") throw second.reason;
  return [first.value, second.value];
}
