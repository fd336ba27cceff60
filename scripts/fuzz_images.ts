/**
 * The long fuzzing run (issue 6): `npm run fuzz [-- --per-format 700]`. Mutates valid
 * JPEG, PNG and WebP files (test/helpers/mutations.ts) and sends each through
 * ImageEmbeddings.embedImage with tiny-clip. A crash kills this process, which is the
 * failure this looks for; otherwise every input must embed to a finite unit vector or
 * fail with an ImageInputError of a documented code. Prints a Markdown summary for
 * docs/reliability.md and exits non-zero on any other outcome.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { ImageEmbeddings, ImageInputError } from "../src/index.js";
import { mutate } from "../test/helpers/mutations.js";
import { renderShape } from "../examples/shared/shapes.js";

const { values } = parseArgs({
  options: { "per-format": { type: "string", default: "700" }, seed: { type: "string", default: "1" } },
});
const perFormat = Number(values["per-format"]);
const firstSeed = Number(values.seed);
const ROOT = resolve(import.meta.dirname, "..");
const embeddings = new ImageEmbeddings({ model: join(ROOT, "test/fixtures/models/tiny-clip") });

const png = await renderShape({ colour: "purple", shape: "square", seed: 4, width: 240, height: 180 });
const originals: Record<string, Buffer> = {
  jpeg: await sharp(png).jpeg({ quality: 85 }).toBuffer(),
  png,
  webp: await sharp(png).webp({ quality: 80 }).toBuffer(),
};
const DOCUMENTED = new Set(["CORRUPT_IMAGE", "UNSUPPORTED_FORMAT", "TOO_LARGE"]);
const counts: Record<string, Record<string, number>> = {};
const unexpected: string[] = [];
const started = performance.now();
for (const [format, original] of Object.entries(originals)) {
  counts[format] = {};
  for (let k = 0; k < perFormat; k++) {
    const seed = firstSeed + k * 7919;
    const { bytes, mutation } = mutate(original, seed);
    let outcome: string;
    try {
      const v = await embeddings.embedImage(bytes);
      outcome = v.every(Number.isFinite) && Math.abs(Math.hypot(...v) - 1) < 1e-4 ? "embedded" : "BAD VECTOR";
    } catch (error) {
      outcome =
        error instanceof ImageInputError && DOCUMENTED.has(error.code)
          ? error.code
          : `UNEXPECTED ${String(error).slice(0, 120)}`;
    }
    if (outcome === "BAD VECTOR" || outcome.startsWith("UNEXPECTED"))
      unexpected.push(`${format} seed ${seed} (${mutation}): ${outcome}`);
    counts[format][outcome] = (counts[format][outcome] ?? 0) + 1;
  }
}
await embeddings.dispose();

const outcomes = [...new Set(Object.values(counts).flatMap((c) => Object.keys(c)))].sort();
console.log(
  `${3 * perFormat} mutated files (seeds from ${firstSeed}), ${((performance.now() - started) / 1000).toFixed(0)} s, no crash.\n`,
);
console.log(`| format | ${outcomes.join(" | ")} |`);
console.log(`|---|${outcomes.map(() => "---").join("|")}|`);
for (const [format, c] of Object.entries(counts))
  console.log(`| ${format} | ${outcomes.map((o) => c[o] ?? 0).join(" | ")} |`);
if (unexpected.length) {
  console.log(`\n${unexpected.length} unexpected outcomes:\n${unexpected.join("\n")}`);
  process.exitCode = 1;
}
