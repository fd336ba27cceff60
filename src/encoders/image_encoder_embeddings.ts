/**
 * Embeddings from an image-only encoder: ViT or DINOv2 (CLS pooling by default), ResNet
 * or ConvNeXt (global average pooling by default), or any pooling of `cls`, `mean`,
 * `max` and `attention`. Use it for image-to-image search ("more like this",
 * duplicates); for text-to-image search use ImageEmbeddings with a CLIP model.
 *
 * It is an ImageEmbeddings whose model is such an encoder: every image input, batch
 * and error behaviour, `projectionHead`, `inference` and the stores work the same; the
 * text methods throw, saying why.
 *
 * @example
 * ```typescript
 * const embeddings = new ImageEncoderEmbeddings({ model: "Xenova/dinov2-small" });
 * const store = await ImageFaissStore.fromImages(paths, embeddings);
 * const similar = await new MultimodalRetriever({ vectorStore: store }).invoke({ image: "query.jpg" });
 * ```
 */
import { ImageEmbeddings, type ImageEmbeddingsParams } from "../embeddings/image_embeddings.js";
import { EncoderTowers } from "./encoder_towers.js";
import type { Pooling } from "./pooling.js";

export interface ImageEncoderEmbeddingsParams extends ImageEmbeddingsParams {
  /** A Hub id or local directory of an image-only model in the transformers.js layout (onnx/model.onnx). */
  model: string;
  /** Default: `cls` for ViT-style models with a CLS token, `mean` (global average) otherwise. */
  pooling?: Pooling;
  /** attention pooling only: the learned query `w` in α = softmax(w · F / √d). Default: the mean token. */
  attentionWeights?: ArrayLike<number>;
}

export class ImageEncoderEmbeddings extends ImageEmbeddings {
  static override lc_name() {
    return "ImageEncoderEmbeddings";
  }

  /** The pooling asked for, or `"default"` (the architecture's: cls or mean). Stores record it. */
  readonly pooling: Pooling | "default";

  constructor(fields: ImageEncoderEmbeddingsParams) {
    if (typeof fields?.model !== "string" || fields.model.trim() === "") {
      throw new TypeError(
        "ImageEncoderEmbeddings needs a model: a Hub id or directory of an image-only encoder, e.g. Xenova/dinov2-small",
      );
    }
    super(
      fields,
      (options, inference) => new EncoderTowers(options, inference, fields.pooling, fields.attentionWeights),
    );
    this.pooling = fields.pooling ?? "default";
  }
}
