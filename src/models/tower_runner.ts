/**
 * Runs the ONNX models: CLIP's two towers, or an image-only backbone. This is the
 * expensive, blocking part of embedding:
 * onnxruntime-node's `run()` holds the thread it is called on for the whole batch
 * (about half a second for 8 images on ViT-B/32 here). `InProcessRunner` runs it on
 * the calling thread; `WorkerRunner` (worker_runner.ts) runs the same code in a worker
 * thread so the event loop stays responsive. Tokenizers and processor configs are cheap
 * and stay on the caller's thread (clip_towers.ts).
 */
import type { PreTrainedModel, Tensor } from "@huggingface/transformers";
import { loadTransformers } from "../utils/imports.js";
import { Lazy } from "../utils/lazy.js";
import { pretrainedOptions, type ModelSourceOptions, type ResolvedModelSource } from "./model_source.js";

/** CLIP's two towers, or an image-only backbone (ViT, DINOv2, ResNet, ConvNeXt) loaded with AutoModel. */
export type Tower = "vision" | "text" | "backbone";

/** A backbone's raw output: `[batch, tokens, dim]` or `[batch, channels, height, width]`. */
export interface BackboneOutput {
  data: Float32Array;
  dims: number[];
}

/** What loading a tower tells the caller. */
export interface TowerInfo {
  /** The text tower's context length from its config (undefined for vision). */
  maxPositionEmbeddings?: number;
}

export interface TowerRunner {
  /** Loads a tower's weights (once; a failed load is retried on the next call). */
  load(tower: Tower): Promise<TowerInfo>;
  /** `pixels` is `[batch, 3, height, width]` laid out flat; returns `batch` embeddings, flat. May take ownership of `pixels`. */
  runVision(pixels: Float32Array, dims: [number, number, number, number]): Promise<Float32Array>;
  /** Token ids and attention mask, `[batch, length]`; returns `batch` embeddings, flat. */
  runText(inputIds: BigInt64Array, attentionMask: BigInt64Array, dims: [number, number]): Promise<Float32Array>;
  /** An image-only backbone's `last_hidden_state` for `[batch, 3, height, width]` pixels. */
  runBackbone(pixels: Float32Array, dims: [number, number, number, number]): Promise<BackboneOutput>;
  /** Frees the sessions. The runner stays usable: the next call loads again. */
  dispose(): Promise<void>;
}

/** Runs the towers with transformers.js on the current thread. */
export class InProcessRunner implements TowerRunner {
  private readonly vision = new Lazy(async () =>
    (await loadTransformers()).CLIPVisionModelWithProjection.from_pretrained(this.source.id, this.loadOptions()),
  );
  private readonly text = new Lazy(async () =>
    (await loadTransformers()).CLIPTextModelWithProjection.from_pretrained(this.source.id, this.loadOptions()),
  );
  private readonly backbone = new Lazy(async () =>
    (await loadTransformers()).AutoModel.from_pretrained(this.source.id, this.loadOptions()),
  );
  private readonly loaded = new Set<PreTrainedModel>();

  constructor(
    private readonly options: ModelSourceOptions,
    private readonly source: ResolvedModelSource,
  ) {}

  async load(tower: Tower): Promise<TowerInfo> {
    const model = await this.model(tower);
    if (tower !== "text") return {};
    const config = model.config as unknown as {
      max_position_embeddings?: number;
      text_config?: { max_position_embeddings?: number };
    };
    return { maxPositionEmbeddings: config.max_position_embeddings ?? config.text_config?.max_position_embeddings };
  }

  async runVision(pixels: Float32Array, dims: [number, number, number, number]): Promise<Float32Array> {
    const [model, { Tensor }] = await Promise.all([this.model("vision"), loadTransformers()]);
    const output = await model({ pixel_values: new Tensor("float32", pixels, dims) });
    return toFloat32(output.image_embeds as Tensor);
  }

  async runText(inputIds: BigInt64Array, attentionMask: BigInt64Array, dims: [number, number]): Promise<Float32Array> {
    const [model, { Tensor }] = await Promise.all([this.model("text"), loadTransformers()]);
    const output = await model({
      input_ids: new Tensor("int64", inputIds, dims),
      attention_mask: new Tensor("int64", attentionMask, dims),
    });
    return toFloat32(output.text_embeds as Tensor);
  }

  async runBackbone(pixels: Float32Array, dims: [number, number, number, number]): Promise<BackboneOutput> {
    const [model, { Tensor }] = await Promise.all([this.model("backbone"), loadTransformers()]);
    const output = await model({ pixel_values: new Tensor("float32", pixels, dims) });
    const hidden = output.last_hidden_state as Tensor | undefined;
    if (!hidden) throw new Error(`the model gave no last_hidden_state (outputs: ${Object.keys(output).join(", ")})`);
    return { data: toFloat32(hidden), dims: hidden.dims };
  }

  async dispose(): Promise<void> {
    const models = [...this.loaded];
    this.loaded.clear();
    this.vision.reset();
    this.text.reset();
    this.backbone.reset();
    await Promise.all(models.map((m) => m.dispose()));
  }

  private async model(tower: Tower): Promise<PreTrainedModel> {
    const model = await { vision: this.vision, text: this.text, backbone: this.backbone }[tower].get();
    this.loaded.add(model);
    return model;
  }

  private loadOptions() {
    return pretrainedOptions(this.options, this.source);
  }
}

/** fp16 models may return float16 tensors; callers always get float32. */
function toFloat32(tensor: Tensor): Float32Array {
  const t = tensor.type === "float32" ? tensor : tensor.to("float32");
  return t.data as Float32Array;
}
