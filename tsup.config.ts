import { defineConfig } from "tsup";

// One bundle per format, each with its own declaration file, so both
// `import` and `require` consumers get matching types (checked by publint/attw).
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // Native and heavy dependencies stay external: they are loaded lazily at run time.
  external: [/^@huggingface\//, /^@langchain\//, "sharp", "faiss-node"],
});
