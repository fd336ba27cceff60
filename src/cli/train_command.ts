/** `image-embeddings train`: trains a projection head over frozen embeddings of a folder per class or a JSONL file. */
import { Command, Option } from "commander";
import { DEFAULT_MODEL } from "../embeddings/image_embeddings.js";
import type { ModelDtype } from "../models/model_source.js";
import { DTYPES, displayPath, positiveInteger, positiveNumber } from "./shared.js";

interface TrainCommandOptions {
  out: string;
  model: string;
  dtype?: ModelDtype;
  loss: "triplet" | "infonce";
  distance: "cosine" | "euclidean";
  margin: number;
  temperature: number;
  mining: "batch-hard" | "random";
  head: "mlp" | "linear";
  hidden?: number;
  outputDim?: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  validation: number;
  patience: number;
  cache?: string;
}

export function trainCommand(): Command {
  return new Command("train")
    .summary("train a projection head on your own notion of similar")
    .description(
      "Train a projection head (Linear-ReLU-Linear or Linear) over frozen embeddings of <data>: a folder with one " +
        "subfolder of images per class, or a JSONL file of triplets {anchor, positive, negative}, image pairs {a, b} " +
        "or image-caption pairs {image, text}. Embeddings are computed once and cached (--cache). Prints the held-out " +
        "score before and after; use the head with ImageEmbeddings' projectionHead option.",
    )
    .argument("<data>", "a folder of class folders, or a .jsonl file")
    .requiredOption("--out <file>", "where to write the head (JSON)")
    .addOption(new Option("--model <id|dir>", "the frozen CLIP model").default(DEFAULT_MODEL))
    .addOption(new Option("--dtype <dtype>", "weight precision of the model").choices(DTYPES))
    .addOption(new Option("--loss <loss>", "training objective").choices(["triplet", "infonce"]).default("triplet"))
    .addOption(new Option("--distance <d>", "triplet distance").choices(["cosine", "euclidean"]).default("cosine"))
    .addOption(new Option("--margin <m>", "triplet margin").argParser(positiveNumber("--margin")).default(0.2))
    .addOption(
      new Option("--mining <how>", "triplets from class folders")
        .choices(["batch-hard", "random"])
        .default("batch-hard"),
    )
    .addOption(
      new Option("--temperature <t>", "InfoNCE temperature").argParser(positiveNumber("--temperature")).default(0.1),
    )
    .addOption(new Option("--head <kind>", "head shape").choices(["mlp", "linear"]).default("mlp"))
    .addOption(
      new Option("--hidden <n>", "mlp hidden width (default: the model's dimension)").argParser(
        positiveInteger("--hidden"),
      ),
    )
    .addOption(
      new Option("--output-dim <n>", "output dimension (default: the model's)").argParser(
        positiveInteger("--output-dim"),
      ),
    )
    .addOption(
      new Option("--epochs <n>", "at most this many epochs").argParser(positiveInteger("--epochs")).default(100),
    )
    .addOption(new Option("--batch-size <n>", "rows per step").argParser(positiveInteger("--batch-size")).default(64))
    .addOption(new Option("--lr <rate>", "Adam learning rate").argParser(positiveNumber("--lr")).default(1e-3))
    .addOption(new Option("--seed <n>", "random seed").argParser((v) => Number.parseInt(v, 10)).default(0))
    .addOption(
      new Option("--validation <share>", "share held out for early stopping")
        .argParser(positiveNumber("--validation"))
        .default(0.2),
    )
    .addOption(
      new Option("--patience <n>", "stop after this many epochs without improvement")
        .argParser(positiveInteger("--patience"))
        .default(8),
    )
    .addOption(new Option("--cache <file>", "embedding cache (default: <out>.embeddings.json)"))
    .addHelpText(
      "after",
      "\nExamples:\n  image-embeddings train ./catalogue --out head.json --model Xenova/clip-vit-base-patch32\n  image-embeddings train pairs.jsonl --loss infonce --out head.json",
    )
    .action(async (data: string, options: TrainCommandOptions) => {
      const { ImageEmbeddings } = await import("../embeddings/image_embeddings.js");
      const { readTrainingSource, embedTrainingSource } = await import("../training/training_data.js");
      const { trainProjectionHead } = await import("../training/train_head.js");
      const { saveProjectionHead } = await import("../heads/head_file.js");
      if (!(options.validation < 1)) throw new Error("--validation must be below 1");

      const source = await readTrainingSource(data);
      const embeddings = new ImageEmbeddings({ model: options.model, dtype: options.dtype });
      const cache = options.cache ?? `${options.out}.embeddings.json`;
      const embedded = await embedTrainingSource(source, embeddings, cache);
      await embeddings.dispose();
      for (const f of embedded.failures) process.stderr.write(`skipped ${displayPath(f.path)}: ${f.reason}\n`);
      process.stdout.write(`Embedded ${embedded.embedded} new items (cache: ${displayPath(cache)}).\n`);

      const loss =
        options.loss === "triplet"
          ? { type: "triplet" as const, distance: options.distance, margin: options.margin, mining: options.mining }
          : { type: "infonce" as const, temperature: options.temperature };
      const trained = await trainProjectionHead({
        data: embedded.data,
        loss,
        head: { kind: options.head, hiddenDim: options.hidden, outputDim: options.outputDim },
        epochs: options.epochs,
        batchSize: options.batchSize,
        learningRate: options.lr,
        seed: options.seed,
        validationFraction: options.validation,
        patience: options.patience,
        onEpoch: (e) =>
          process.stdout.write(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, validation ${e.validation.toFixed(3)}\n`),
      });
      const metric = source.kind === "triplets" ? "satisfied triplets" : "recall@1";
      await saveProjectionHead(trained.head, options.out, {
        model: options.model,
        data: source.kind,
        loss,
        epochs: trained.bestEpoch,
        baseline: trained.baseline,
        validation: trained.validation,
      });
      process.stdout.write(
        `Held-out ${metric}: ${trained.baseline.toFixed(3)} without a head, ${trained.validation.toFixed(3)} with it ` +
          `(best epoch ${trained.bestEpoch}, ${trained.seconds.toFixed(1)} s).\nWrote ${displayPath(options.out)}.\n`,
      );
    });
}
