import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Native addons (onnxruntime-node, sharp, faiss-node) are safest in forked processes.
    pool: "forks",
    // Two cores: two test files at a time, each loading small models.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
