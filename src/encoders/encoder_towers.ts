/**
 * An image-only backbone (ViT, DINOv2, DeiT, BEiT; ResNet, ConvNeXt, EfficientNet, ...)
 * behind the same `Towers` interface as CLIP, so ImageEmbeddings' whole image path
 * (inputs, preprocessing, batches, errors, heads, stores) works unchanged. The model is
 * loaded with transformers.js' AutoModel; its `last_hidden_state` is pooled here.
 * There is no text tower: text methods fail with an error that says so.
 */
import { AutoConfig, AutoProcessor } from "@huggingface/transformers";
import { pixelSpecFromConfig, type PreprocessorConfig } from "../images/pixel_spec.js";
import { inputSize } from "../images/preprocess.js";
import type { ImageTower, InferenceThread, TextTower, Towers } from "../models/clip_towers.js";
import {
  pretrainedOptions,
  resolveModelSource,
  withModelLoadErrors,
  type ModelSourceOptions,
  type ResolvedModelSource,
} from "../models/model_source.js";
import { InProcessRunner, type TowerRunner } from "../models/tower_runner.js";
import { WorkerRunner } from "../models/worker_runner.js";
import { Lazy } from "../utils/lazy.js";
import { pool, POOLINGS, type Pooling } from "./pooling.js";

/** Transformers whose first token is a CLS token. */
const CLS_TOKEN_MODELS = new Set([
  "vit",
  "dinov2",
  "dinov2_with_registers",
  "deit",
  "beit",
  "data2vec-vision",
  "vit_msn",
  "vit_mae",
  "dinov3_vit",
]);

interface BackboneConfig {
  modelType: string;
  dimension: number;
  hasClsToken: boolean;
}

export class EncoderTowers implements Towers {
  readonly source: ResolvedModelSource;
  private readonly runner: TowerRunner;
  private readonly config = new Lazy(() => this.loadConfig());
  private readonly image = new Lazy(() => this.loadImageTower());

  constructor(
    private readonly options: ModelSourceOptions,
    inference: InferenceThread,
    private readonly requested: Pooling | undefined,
    private readonly attentionWeights?: ArrayLike<number>,
  ) {
    if (requested !== undefined && !POOLINGS.includes(requested)) {
      throw new TypeError(
        `Expected one of ${POOLINGS.join(", ")} for pooling but received ${JSON.stringify(requested)}`,
      );
    }
    this.source = resolveModelSource(options);
    this.runner =
      inference === "worker"
        ? new WorkerRunner(options, this.source, options.workers)
        : new InProcessRunner(options, this.source);
  }

  imageTower(): Promise<ImageTower> {
    return this.image.get();
  }

  async textTower(): Promise<TextTower> {
    const { modelType } = await this.config.get();
    throw new TypeError(
      `"${this.options.model}" is an image-only encoder (${modelType}): it has no text tower, so it cannot embed text. ` +
        `Search it with images, or use ImageEmbeddings with a CLIP model for text-to-image search.`,
    );
  }

  async embeddingDimension(): Promise<number> {
    return (await this.config.get()).dimension;
  }

  /** The pooling in use: the one asked for, or `cls` for transformers with a CLS token and `mean` otherwise. */
  async pooling(): Promise<Pooling> {
    const { hasClsToken } = await this.config.get();
    return this.requested ?? (hasClsToken ? "cls" : "mean");
  }

  async dispose(): Promise<void> {
    this.image.reset();
    await this.runner.dispose();
  }

  private withLoadErrors<T>(what: string, load: () => Promise<T>): Promise<T> {
    return withModelLoadErrors(this.options, this.source, what, load);
  }

  private loadConfig(): Promise<BackboneConfig> {
    return this.withLoadErrors("reading config.json", async () => {
      const config = (await AutoConfig.from_pretrained(
        this.source.id,
        pretrainedOptions(this.options, this.source),
      )) as unknown as {
        model_type?: string;
        hidden_size?: number;
        hidden_sizes?: number[];
      };
      const modelType = config.model_type ?? "unknown";
      if (modelType === "clip") throw new Error("this is a CLIP model: use ImageEmbeddings, which also embeds text");
      const dimension = config.hidden_size ?? config.hidden_sizes?.at(-1);
      if (!dimension)
        throw new Error(`config.json gives neither hidden_size nor hidden_sizes for model type "${modelType}"`);
      const cnn = Array.isArray(config.hidden_sizes) && config.hidden_size === undefined;
      return { modelType, dimension, hasClsToken: !cnn && CLS_TOKEN_MODELS.has(modelType) };
    });
  }

  private async loadImageTower(): Promise<ImageTower> {
    const config = await this.config.get();
    const pooling = await this.pooling();
    if (pooling === "cls" && !config.hasClsToken) {
      throw new TypeError(
        `pooling "cls" makes no sense for "${this.options.model}" (${config.modelType}): ` +
          `its output has no CLS token${config.modelType.match(/resnet|conv|efficient|regnet|mobilenet/) ? " (a CNN gives a feature map)" : ""}. Use mean, max or attention.`,
      );
    }
    const loadOptions = pretrainedOptions(this.options, this.source);
    const [, processor] = await this.withLoadErrors("loading the image encoder", () =>
      Promise.all([this.runner.load("backbone"), AutoProcessor.from_pretrained(this.source.id, loadOptions)]),
    );
    const spec = pixelSpecFromConfig(
      (processor as unknown as { image_processor: { config: PreprocessorConfig } }).image_processor.config,
    );
    const { width, height } = inputSize(spec);
    return {
      spec,
      pixelsPerImage: 3 * width * height,
      embed: async (pixels, batch) => {
        const output = await this.runner.runBackbone(pixels, [batch, 3, height, width]);
        const pooled =
          output.dims.length === 3
            ? pool(
                {
                  kind: "tokens",
                  data: output.data,
                  dims: output.dims as [number, number, number],
                  hasClsToken: config.hasClsToken,
                },
                pooling,
                { attentionWeights: this.attentionWeights },
              )
            : pool(
                { kind: "feature-map", data: output.data, dims: output.dims as [number, number, number, number] },
                pooling,
                { attentionWeights: this.attentionWeights },
              );
        return pooled.data;
      },
    };
  }
}
