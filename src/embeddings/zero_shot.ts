/**
 * Zero-shot image classification with a CLIP model: the image is compared with a
 * caption per label ("a photo of a {label}"), as in the CLIP paper.
 */
import type { ImageInput } from "../images/image_input.js";
import { cosineSimilarity } from "../utils/vectors.js";

/** What `classifyImage` needs: `ImageEmbeddings` has both methods. */
export interface ZeroShotEmbeddings {
  embedImage(input: ImageInput): Promise<number[]>;
  embedDocuments(texts: string[]): Promise<number[][]>;
}

export interface ClassifyImageOptions {
  /** Caption per label; `{}` is replaced by the label. Default: `"a photo of a {}"`. */
  template?: string;
  /** Return only the best `topK` labels (all of them when `topK` >= the number of labels). Default: all. */
  topK?: number;
  /**
   * Multiplies the cosine similarities before the softmax. CLIP learns this scale during
   * training; OpenAI's models end at 100. Default: `100`.
   */
  logitScale?: number;
}

export interface LabelScore {
  label: string;
  /** Cosine similarity between the image and the label's caption. */
  score: number;
  /** Softmax over all labels of `logitScale` × cosine; sums to 1 over all labels (before `topK`). */
  probability: number;
}

/**
 * Scores `image` against each label and returns them best first.
 *
 * @example
 * ```typescript
 * const embeddings = new ImageEmbeddings({ model: "Xenova/clip-vit-base-patch32" });
 * const ranked = await classifyImage(embeddings, "photos/cat.jpg", ["cat", "dog", "car"]);
 * console.log(ranked[0]); // { label: 'cat', score: 0.27, probability: 0.98 }
 * ```
 */
export async function classifyImage(
  embeddings: ZeroShotEmbeddings,
  image: ImageInput,
  labels: string[],
  options: ClassifyImageOptions = {},
): Promise<LabelScore[]> {
  const template = options.template ?? "a photo of a {}";
  const logitScale = options.logitScale ?? 100;
  if (!Array.isArray(labels) || labels.length === 0) {
    throw new TypeError(
      `Expected a non-empty array of strings for labels but received ${Array.isArray(labels) ? "[]" : typeof labels}`,
    );
  }
  labels.forEach((label, i) => {
    if (typeof label !== "string" || label.trim() === "") {
      throw new TypeError(`Expected a non-empty string for labels[${i}] but received ${JSON.stringify(label)}`);
    }
  });
  const duplicate = labels.find((label, i) => labels.indexOf(label) !== i);
  if (duplicate !== undefined)
    throw new TypeError(`Duplicate label ${JSON.stringify(duplicate)}: labels must be unique`);
  if (typeof template !== "string" || !template.includes("{}")) {
    throw new TypeError(
      `Expected a template containing "{}" (where the label goes) but received ${JSON.stringify(template)}`,
    );
  }
  if (options.topK !== undefined && (!Number.isInteger(options.topK) || options.topK <= 0)) {
    throw new TypeError(
      `Expected positive integer for topK but received ${String(options.topK)} of type ${typeof options.topK}`,
    );
  }
  if (typeof logitScale !== "number" || !Number.isFinite(logitScale) || logitScale <= 0) {
    throw new TypeError(`Expected a positive number for logitScale but received ${String(options.logitScale)}`);
  }

  const imageVector = await embeddings.embedImage(image);
  const textVectors = await embeddings.embedDocuments(labels.map((label) => template.replaceAll("{}", label)));
  const scores = textVectors.map((t) => cosineSimilarity(imageVector, t));
  const logits = scores.map((s) => logitScale * s);
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  const ranked = labels
    .map((label, i) => ({ label, score: scores[i], probability: exps[i] / total }))
    .sort((a, b) => b.score - a.score);
  return options.topK === undefined ? ranked : ranked.slice(0, options.topK);
}
