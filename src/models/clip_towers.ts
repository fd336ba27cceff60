/**
 * CLIP's two towers behind small interfaces: the image tower takes a batch of
 * pixel_values, the text tower takes strings. With towers.ts and tower_runner.ts this is
 * the only code that talks to transformers.js, so the rest of the package never sees its
 * tensors.
 *
 * Each tower (with its processor or tokenizer) loads on first use. A failed load is
 * forgotten, so the next call tries again. Loading, load errors, the pixel spec and
 * where the ONNX sessions run are ModelTowers' (towers.ts); this file is what is CLIP's.
 */
import type { PreTrainedTokenizer } from "@huggingface/transformers";
import { loadTransformers } from "../utils/imports.js";
import { Lazy } from "../utils/lazy.js";
import { tokenizerSource } from "./model_source.js";
import { bothSettled, ModelTowers, type ImageTower, type TextTower } from "./towers.js";

export class ClipTowers extends ModelTowers {
  private readonly text = new Lazy(() => this.loadTextTower());
  private readonly dimension = new Lazy(() => this.loadDimension());

  textTower(): Promise<TextTower> {
    return this.text.get();
  }

  /** The embedding size, from `config.json` alone (no weights are loaded). */
  embeddingDimension(): Promise<number> {
    return this.dimension.get();
  }

  override async dispose(): Promise<void> {
    this.text.reset();
    await super.dispose();
  }

  private loadDimension(): Promise<number> {
    return this.readConfig((config: { projection_dim?: number }) => {
      if (!config.projection_dim) throw new Error("config.json has no projection_dim; is this a CLIP model?");
      return config.projection_dim;
    });
  }

  protected async loadImageTower(): Promise<ImageTower> {
    // The image processor alone: AutoProcessor would load CLIP's tokenizer too.
    const input = await this.loadImageInput("vision", "loading the image tower");
    return { ...input, embed: (pixels, batch) => this.runner.runVision(pixels, input.dims(batch)) };
  }

  private async loadTextTower(): Promise<TextTower> {
    const tokenizerFrom = tokenizerSource(this.options, this.source);
    const [info, tokenizer] = await this.withLoadErrors("loading the text tower", async () => {
      const { AutoTokenizer } = await loadTransformers();
      return bothSettled(
        this.runner.load("text"),
        AutoTokenizer.from_pretrained(tokenizerFrom.id, this.loadOptions(tokenizerFrom)),
      );
    });
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
