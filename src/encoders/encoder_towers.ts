/**
 * An image-only backbone (ViT, DINOv2, DeiT, BEiT; ResNet, ConvNeXt, EfficientNet, ...)
 * behind the same `Towers` interface as CLIP, so ImageEmbeddings' whole image path
 * (inputs, preprocessing, batches, errors, heads, stores) works unchanged. The model is
 * loaded with transformers.js' AutoModel; its `last_hidden_state` is pooled here.
 * There is no text tower: text methods fail with an error that says so.
 */
import type { ModelSourceOptions } from "../models/model_source.js";
import { ModelTowers, type ImageTower, type InferenceThread, type TextTower } from "../models/towers.js";
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

export class EncoderTowers extends ModelTowers {
  private readonly config = new Lazy(() => this.loadConfig());

  constructor(
    options: ModelSourceOptions,
    inference: InferenceThread,
    private readonly requested: Pooling | undefined,
    private readonly attentionWeights?: ArrayLike<number>,
  ) {
    if (requested !== undefined && !POOLINGS.includes(requested)) {
      throw new TypeError(
        `Expected one of ${POOLINGS.join(", ")} for pooling but received ${JSON.stringify(requested)}`,
      );
    }
    super(options, inference);
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

  private loadConfig(): Promise<BackboneConfig> {
    return this.readConfig((config: { model_type?: string; hidden_size?: number; hidden_sizes?: number[] }) => {
      const modelType = config.model_type ?? "unknown";
      if (modelType === "clip") throw new Error("this is a CLIP model: use ImageEmbeddings, which also embeds text");
      const dimension = config.hidden_size ?? config.hidden_sizes?.at(-1);
      if (!dimension)
        throw new Error(`config.json gives neither hidden_size nor hidden_sizes for model type "${modelType}"`);
      const cnn = Array.isArray(config.hidden_sizes) && config.hidden_size === undefined;
      return { modelType, dimension, hasClsToken: !cnn && CLS_TOKEN_MODELS.has(modelType) };
    });
  }

  protected async loadImageTower(): Promise<ImageTower> {
    const config = await this.config.get();
    const pooling = await this.pooling();
    if (pooling === "cls" && !config.hasClsToken) {
      throw new TypeError(
        `pooling "cls" makes no sense for "${this.options.model}" (${config.modelType}): ` +
          `its output has no CLS token${config.modelType.match(/resnet|conv|efficient|regnet|mobilenet/) ? " (a CNN gives a feature map)" : ""}. Use mean, max or attention.`,
      );
    }
    const input = await this.loadImageInput("backbone", "loading the image encoder");
    return {
      ...input,
      embed: async (pixels, batch) => {
        const output = await this.runner.runBackbone(pixels, input.dims(batch));
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
