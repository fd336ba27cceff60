/** Options, argument parsers and output helpers shared by the CLI's commands. */
import { isAbsolute, relative } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { DEFAULT_INDEX_DIR } from "../indexer/defaults.js";

export const INDEX_ENV = "IMAGE_EMBEDDINGS_INDEX";
export const DTYPES = ["fp32", "fp16", "q8", "int8", "uint8", "q4", "bnb4", "q4f16"];

/** `--index <dir>`: the index folder; default `./.image-index` or $IMAGE_EMBEDDINGS_INDEX. */
export function indexOption(): Option {
  return new Option("--index <dir>", "index folder").env(INDEX_ENV).default(DEFAULT_INDEX_DIR);
}

/** `--model` and `--dtype`, which default to what the index was built with. */
export function modelOptions(forNewIndex: boolean): Option[] {
  return [
    new Option(
      "--model <id|dir>",
      forNewIndex
        ? 'CLIP model: Hugging Face Hub id or local folder (default: the index\'s model, else "Xenova/clip-vit-base-patch32")'
        : "CLIP model (default: the one the index was built with)",
    ),
    new Option(
      "--dtype <dtype>",
      "weight precision, e.g. q8 for *_quantized.onnx (default: the index's, else fp32)",
    ).choices(DTYPES),
  ];
}

/** Adds `options` to `command`, in order (commander adds one at a time). */
export function addOptions(command: Command, options: Option[]): Command {
  for (const option of options) command.addOption(option);
  return command;
}

export function jsonOption(description = "print JSON on stdout instead of text"): Option {
  return new Option("--json", description);
}

export function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`Expected a positive integer for ${name} but received "${value}".`);
    return n;
  };
}

export function nonNegativeInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`Expected a whole number >= 0 for ${name} but received "${value}".`);
    return n;
  };
}

export function similarity(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < -1 || n > 1) {
      throw new InvalidArgumentError(
        `Expected a cosine similarity between -1 and 1 for ${name} but received "${value}".`,
      );
    }
    return n;
  };
}

export function nonNegativeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`Expected a number >= 0 for ${name} but received "${value}".`);
    return n;
  };
}

export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`Expected a positive number for ${name} but received "${value}".`);
    return n;
  };
}

/** A path as the user would type it: relative to the current folder when inside it. */
export function displayPath(path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Plain-text table: columns padded to their widest cell, numbers right-aligned. */
export function formatTable(header: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) =>
        c === cells.length - 1 ? cell : rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]),
      )
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** Writes JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
