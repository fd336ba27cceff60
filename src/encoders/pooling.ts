/**
 * Pooling: from a backbone's output to one vector per image.
 * - A transformer (ViT, DINOv2) gives tokens `[batch, tokens, dim]`, the first being the
 *   CLS token. `cls` takes it; `mean`, `max` and `attention` pool the patch tokens
 *   (the CLS token left out).
 * - A CNN (ResNet, ConvNeXt) gives a feature map `[batch, channels, height, width]`,
 *   whose H × W positions are pooled over; it has no CLS token, so `cls` is an error.
 * `attention` weighs each token by α = softmax(w · F / √d): with a learned `w` when
 * given, otherwise the mean token as `w` (tokens that agree with the whole image count
 * more), which needs no training.
 */

export type Pooling = "cls" | "mean" | "max" | "attention";
export const POOLINGS: readonly Pooling[] = ["cls", "mean", "max", "attention"];

export type BackboneOutput =
  | { kind: "tokens"; data: ArrayLike<number>; dims: [number, number, number]; hasClsToken: boolean }
  | { kind: "feature-map"; data: ArrayLike<number>; dims: [number, number, number, number] };

export interface PoolOptions {
  /** attention only: the learned query vector `w` (length = dim). Default: the mean token. */
  attentionWeights?: ArrayLike<number>;
}

/** Pools `output` to `[batch, dim]`, laid out flat. */
export function pool(
  output: BackboneOutput,
  pooling: Pooling,
  options: PoolOptions = {},
): { data: Float32Array; batch: number; dim: number } {
  if (!POOLINGS.includes(pooling))
    throw new TypeError(`Expected one of ${POOLINGS.join(", ")} for pooling but received ${JSON.stringify(pooling)}`);
  const { batch, count, dim, at, first } = view(output, pooling);
  const out = new Float32Array(batch * dim);
  const weights = options.attentionWeights;
  if (weights && weights.length !== dim)
    throw new RangeError(`attentionWeights has ${weights.length} values but the features have ${dim}`);
  for (let b = 0; b < batch; b++) {
    const row = out.subarray(b * dim, (b + 1) * dim);
    if (pooling === "cls") {
      for (let d = 0; d < dim; d++) row[d] = at(b, 0, d);
      continue;
    }
    if (pooling === "max") {
      row.fill(-Infinity);
      for (let t = first; t < count; t++) for (let d = 0; d < dim; d++) row[d] = Math.max(row[d], at(b, t, d));
      continue;
    }
    const mean = new Float64Array(dim);
    for (let t = first; t < count; t++) for (let d = 0; d < dim; d++) mean[d] += at(b, t, d) / (count - first);
    if (pooling === "mean") {
      row.set(mean);
      continue;
    }
    // attention: α_t = softmax_t(w · F_t / √dim), then Σ α_t F_t
    const query = weights ?? mean;
    const scores = new Float64Array(count - first);
    for (let t = first; t < count; t++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += query[d] * at(b, t, d);
      scores[t - first] = s / Math.sqrt(dim);
    }
    const max = Math.max(...scores);
    let sum = 0;
    for (let i = 0; i < scores.length; i++) sum += scores[i] = Math.exp(scores[i] - max);
    const acc = new Float64Array(dim);
    for (let t = first; t < count; t++) for (let d = 0; d < dim; d++) acc[d] += (scores[t - first] / sum) * at(b, t, d);
    row.set(acc);
  }
  return { data: out, batch, dim };
}

/** Index arithmetic over either layout: element (image b, position t, feature d). */
function view(output: BackboneOutput, pooling: Pooling) {
  if (output.kind === "tokens") {
    const [batch, tokens, dim] = output.dims;
    checkSize(output.data, batch * tokens * dim);
    if (pooling === "cls" && !output.hasClsToken)
      throw new Error(
        "cls pooling needs a CLS token, and this backbone's tokens have none: use mean, max or attention",
      );
    const first = output.hasClsToken ? 1 : 0;
    if (tokens - first < 1) throw new Error("no patch tokens to pool");
    const data = output.data;
    return {
      batch,
      count: tokens,
      dim,
      first,
      at: (b: number, t: number, d: number) => data[(b * tokens + t) * dim + d],
    };
  }
  const [batch, channels, height, width] = output.dims;
  checkSize(output.data, batch * channels * height * width);
  if (pooling === "cls") {
    throw new Error(
      "cls pooling makes no sense for a CNN: its output is a feature map with no CLS token. Use mean (global average), max or attention",
    );
  }
  const data = output.data;
  const area = height * width;
  return {
    batch,
    count: area,
    dim: channels,
    first: 0,
    at: (b: number, t: number, d: number) => data[(b * channels + d) * area + t],
  };
}

function checkSize(data: ArrayLike<number>, expected: number) {
  if (data.length !== expected)
    throw new RangeError(`backbone output has ${data.length} values, expected ${expected} from its dims`);
}
