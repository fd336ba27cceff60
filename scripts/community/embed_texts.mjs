/**
 * Checks that @langchain/community's HuggingFaceTransformersEmbeddings runs the project's tiny-bert model
 * offline on whichever transformers.js resolves next to this file, and matches the PyTorch reference.
 *
 * Run from a directory whose node_modules hold @langchain/community, @langchain/core and
 * @huggingface/transformers (the repository, or a consumer project this folder is copied into):
 *   node scripts/community/embed_texts.mjs [--model DIR] [--reference FILE]
 * Prints one JSON line of measurements; exits 1 (with the reason) when a check fails.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { HuggingFaceTransformersEmbeddings } from "@langchain/community/embeddings/huggingface_transformers";
import { runtimeInfo } from "./runtime_info.mjs";

const repo = new URL("../../", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    model: { type: "string", default: resolve(repo, "test/fixtures/models/tiny-bert") },
    reference: { type: "string", default: resolve(repo, "test/fixtures/reference/tiny-bert.json") },
  },
});
const reference = JSON.parse(readFileSync(values.reference, "utf8"));
const texts = Object.keys(reference.texts);

const cosine = (a, b) => {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
};
const failures = [];
const check = (ok, message) => ok || failures.push(message);

// Exactly how a user points community's class at a model directory: an absolute path and local_files_only.
const makeEmbeddings = () =>
  new HuggingFaceTransformersEmbeddings({
    model: resolve(values.model),
    pretrainedOptions: { local_files_only: true },
  });
const embeddings = makeEmbeddings();
const query = await embeddings.embedQuery(texts[0]);
const documents = await embeddings.embedDocuments(texts);
const again = await makeEmbeddings().embedDocuments(texts);

check(query.length === reference.dimension, `embedQuery gave ${query.length} numbers, expected ${reference.dimension}`);
check(documents.length === texts.length, `embedDocuments gave ${documents.length} vectors for ${texts.length} texts`);
const parity = texts.map((text, i) => cosine(documents[i], reference.texts[text].mean_normalized));
const fits = texts.map((text) => !reference.texts[text].truncated);
const parityFits = parity.filter((_, i) => fits[i]);
// Over 128 tokens transformers.js cuts the final [SEP] that Python keeps: close, not equal.
const parityTruncated = parity.filter((_, i) => !fits[i]);
check(Math.min(...parityFits) >= 0.99999, `cosine with the PyTorch reference below 0.99999: ${parity}`);
check(Math.min(...parityTruncated) >= 0.999, `cosine with the PyTorch reference (truncated) below 0.999: ${parity}`);
check(cosine(query, documents[0]) >= 0.9999, "embedQuery and embedDocuments disagree on the same text");
const norms = documents.map((v) => Math.hypot(...v));
check(
  norms.every((n) => Math.abs(n - 1) < 1e-5),
  `vectors are not normalised: ${norms}`,
);
let maxPairCosine = -1;
for (let i = 0; i < documents.length; i++)
  for (let j = i + 1; j < documents.length; j++)
    maxPairCosine = Math.max(maxPairCosine, cosine(documents[i], documents[j]));
check(maxPairCosine < 0.9999, `two different texts gave the same vector (cosine ${maxPairCosine})`);
check(
  JSON.stringify(again) === JSON.stringify(documents),
  "a second instance gave different vectors for the same texts",
);

console.log(
  JSON.stringify({
    ...runtimeInfo(import.meta.url),
    dimension: query.length,
    texts: texts.length,
    minParityCosine: Math.min(...parityFits),
    minParityCosineTruncated: Math.min(...parityTruncated),
    maxPairCosine,
    deterministic: JSON.stringify(again) === JSON.stringify(documents),
    failures,
  }),
);
process.exit(failures.length ? 1 : 0);
