/**
 * Which transformers.js and onnxruntime-node this process resolves, read from their package.json files
 * (their `exports` maps do not all expose package.json, so walk up from the resolved entry point).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

function packageVersion(require, name) {
  let dir = dirname(require.resolve(name));
  while (dir !== dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8"));
      if (pkg.name === name) return { version: pkg.version, dir };
    }
    dir = dirname(dir);
  }
  throw new Error(`package.json of ${name} not found above ${require.resolve(name)}`);
}

/** `from`: a file URL or path whose node_modules lookup decides the answer (the caller's own). */
export function runtimeInfo(from) {
  const require = createRequire(from);
  const transformers = packageVersion(require, "@huggingface/transformers");
  const fromTransformers = createRequire(join(transformers.dir, "package.json"));
  const ort = packageVersion(fromTransformers, "onnxruntime-node");
  return { transformers: transformers.version, onnxruntimeNode: ort.version, onnxruntimeNodeDir: ort.dir };
}
