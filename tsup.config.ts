import { rmSync } from "node:fs";
import { defineConfig, type Options } from "tsup";

// Native and heavy dependencies stay external: they are loaded lazily at run time.
// (Everything in package.json's dependencies is external anyway; these are explicit.)
const external: Options["external"] = [/^@huggingface\//, /^@langchain\//, "sharp", "faiss-node"];

// The two builds below run at the same time into dist/, so neither may use tsup's
// `clean` (one would delete the other's fresh output): dist/ is emptied once, here,
// before both start.
rmSync("dist", { recursive: true, force: true });

export default defineConfig([
  // The library: one bundle per format, each with its own declaration file, so both
  // `import` and `require` consumers get matching types (checked by publint/attw).
  // tower_worker and training_worker are worker threads' entries (found by
  // src/runtime/worker_entry.ts); the shims give the CJS build an import.meta.url to find them with.
  {
    entry: {
      index: "src/index.ts",
      tower_worker: "src/models/tower_worker.ts",
      training_worker: "src/training/training_worker.ts",
    },
    format: ["esm", "cjs"],
    dts: { entry: { index: "src/index.ts" } },
    shims: true,
    // No source maps: the published .js is unminified, with each module's source path in a
    // comment, so stack traces already point at readable code; maps with the sources embedded
    // tripled the tarball (1.4 MB of 2.3 MB unpacked).
    sourcemap: false,
    clean: false,
    target: "node20",
    external,
  },
  // The `image-embeddings` command (package.json "bin"): ESM only (top-level await);
  // tsup keeps the shebang and marks the file executable. Commands import the library
  // lazily so that `--help` starts fast; those chunks go to dist/cli-chunks/.
  {
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    dts: false,
    sourcemap: false,
    clean: false,
    target: "node20",
    platform: "node",
    external,
    esbuildOptions(options) {
      options.chunkNames = "cli-chunks/[name]-[hash]";
    },
  },
]);
