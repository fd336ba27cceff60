/** q8 against fp32 on the same images: the cosine between the two vectors of each image. */
import { ImageEmbeddings, cosineSimilarity } from "../../src/index.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{ model: string; paths: string[] }>();
const fp32 = new ImageEmbeddings({ model: args.model, dtype: "fp32" });
const q8 = new ImageEmbeddings({ model: args.model, dtype: "q8" });
const [a, b] = [await fp32.embedImages(args.paths), await q8.embedImages(args.paths)];
const cosines = a.map((v, i) => cosineSimilarity(v, b[i]));
report({
  images: args.paths.length,
  minCosine: Math.min(...cosines),
  meanCosine: cosines.reduce((s, c) => s + c, 0) / cosines.length,
});
await Promise.all([fp32.dispose(), q8.dispose()]);
