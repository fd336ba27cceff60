// Side by side: this tree against an older checkout of the package (OLD_TREE, default /tmp/old, with its own
// npm ci; for the runtime upgrade, commit fad008f on transformers.js 3.8.1), the same contenders interleaved,
// 3 repetitions. Needs `npm run bench`'s model and web images in .cache/. Prints the raw rows as JSON.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const model = `${root}/.cache/models/bench-vit-b32`;
const webDir = `${root}/.cache/bench/images/web`;
const web = readdirSync(webDir).map((f) => `${webDir}/${f}`);
const texts = Array.from(
  { length: 64 },
  (_, i) =>
    `a photo of a ${["red", "blue", "green", "small", "large", "old", "new", "bright"][i % 8]} ${["dog", "cat", "car", "house", "tree", "boat", "bird", "chair"][(i >> 3) % 8]} number ${i}`,
);
const trees = { old: process.env.OLD_TREE ?? "/tmp/old", this: root };
const run = (tree, file, args) => {
  const r = spawnSync(process.execPath, [`${tree}/node_modules/tsx/dist/cli.mjs`, `bench/contenders/${file}`], {
    cwd: tree,
    input: JSON.stringify(args),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`${tree} ${file}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(7));
};
const rows = [];
for (let rep = 1; rep <= 3; rep++) {
  for (const [version, tree] of Object.entries(trees)) {
    for (const dtype of ["fp32", "q8"]) {
      const r = run(tree, "ours_index.ts", { model, paths: web, dtype, batchSize: 16, inference: "worker" });
      rows.push({
        rep,
        version,
        what: `index web ${dtype}`,
        perSecond: r.images / r.seconds,
        cpuPerImage: r.cpuSeconds / r.images,
        p99: r.loopDelayP99Ms,
        rss: r.peakRssMb,
      });
    }
    const t = run(tree, "ours_text.ts", { model, texts, batchSize: 64, dtype: "fp32" });
    rows.push({ rep, version, what: "text fp32", ...t });
    console.error(JSON.stringify(rows.slice(-3)));
  }
}
console.log(JSON.stringify(rows));
