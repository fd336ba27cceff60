/**
 * Training speed: trainProjectionHead over N embeddings of 512 dimensions (synthetic:
 * 50 classes whose signal hides under nuisance dimensions), mlp 512 → hidden → 512,
 * triplet loss with batch-hard mining, Adam, early stopping on the validation split (as
 * a user would run it).
 */
import { trainProjectionHead } from "../../src/index.js";
import { gaussian, seededRandom } from "../../src/heads/random.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{ count: number; epochs: number; patience: number; hiddenDim: number }>();
const DIM = 512;
const random = seededRandom(9);
const means = Array.from({ length: 50 }, () => Array.from({ length: 16 }, () => gaussian(random) * 0.5));
const examples = Array.from({ length: args.count }, (_, i) => ({
  label: i % 50,
  vector: Array.from({ length: DIM }, (_, k) =>
    k < 16 ? means[i % 50][k] + gaussian(random) * 0.1 : gaussian(random),
  ),
}));
const trained = await trainProjectionHead({
  data: { examples },
  loss: { type: "triplet" },
  head: { kind: "mlp", hiddenDim: args.hiddenDim },
  epochs: args.epochs,
  patience: args.patience,
  learningRate: 1e-3,
});
report({
  count: args.count,
  epochs: trained.history.length,
  bestEpoch: trained.bestEpoch,
  seconds: trained.seconds,
  baseline: trained.baseline,
  validation: trained.validation,
});
