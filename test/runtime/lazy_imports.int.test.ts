/**
 * Importing the package root loads no native module: not sharp (libvips), not
 * transformers.js (onnxruntime-node), not faiss-node. Each loads on first use. Checked in
 * fresh processes on the built package, ESM and CommonJS, through the shared objects the
 * process has mapped (/proc/self/maps) and, for CommonJS, the require cache.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/ensure_built.js";
import { FIXTURE_IMAGES, ROOT, TINY_CLIP } from "../helpers/fixtures.js";

const IMAGE = join(FIXTURE_IMAGES, "red-circle-80.png");

/** Prints which native parts are loaded, after importing the package and again after using it. */
const probe = `
const maps = () => fs.readFileSync("/proc/self/maps", "utf8");
const cached = () => typeof require === "undefined" ? [] : Object.keys(require.cache);
const state = () => ({
  libvips: /libvips/.test(maps()),
  libonnxruntime: /libonnxruntime/.test(maps()),
  faissAddon: /faiss-node\\.node/.test(maps()),
  packages: ["sharp", "@huggingface/transformers", "onnxruntime-node", "faiss-node"].filter((name) =>
    cached().some((file) => file.includes("/node_modules/" + name + "/")),
  ),
});
const afterImport = state();
const embeddings = new lib.ImageEmbeddings({ model: ${JSON.stringify(TINY_CLIP)} });
const store = await lib.ImageFaissStore.fromImages([${JSON.stringify(IMAGE)}], embeddings);
const [[, score]] = await store.similaritySearchVectorWithScore(await embeddings.embedImage(${JSON.stringify(IMAGE)}), 1);
await embeddings.dispose();
console.log(JSON.stringify({ afterImport, afterUse: state(), score }));
`;

const programs = {
  esm: `import fs from "node:fs"; const lib = await import("./dist/index.js"); ${probe}`,
  cjs: `const fs = require("node:fs"); const lib = require("./dist/index.cjs"); (async () => { ${probe} })();`,
};

function run(kind: keyof typeof programs) {
  const child = spawnSync(
    process.execPath,
    [...(kind === "esm" ? ["--input-type=module"] : []), "-e", programs[kind]],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!);
}

describe.runIf(process.platform === "linux")("importing the package root", () => {
  beforeAll(ensureBuilt, 300_000);

  it.each(["esm", "cjs"] as const)("(%s) loads no native module until one is used", (kind) => {
    const { afterImport, afterUse, score } = run(kind);
    expect(afterImport).toEqual({ libvips: false, libonnxruntime: false, faissAddon: false, packages: [] });
    expect(afterUse.libvips).toBe(true);
    expect(afterUse.libonnxruntime).toBe(true);
    expect(afterUse.faissAddon).toBe(true);
    if (kind === "cjs") expect(afterUse.packages).toEqual(expect.arrayContaining(["sharp", "faiss-node"]));
    // The image found itself.
    expect(score).toBeGreaterThan(0.999);
  });
});
