import { configDefaults, defineConfig } from "vitest/config";

/**
 * Tests of retrieval quality at the level of the 24 colour-and-shape classes. They
 * need a tiny-clip that tells shapes apart; the committed one separates colours
 * (held-out colour accuracy 0.98) but not yet shapes (see docs/models.md and issue 2),
 * so they run on their own with `npm run test:quality` until it is retrained.
 */
const QUALITY_TESTS = [
  "test/embeddings/zero_shot.int.test.ts",
  "test/retrievers/multimodal_retriever.int.test.ts",
  "test/retrievers/classify_image.int.test.ts",
  "test/tools/image_search_tool.int.test.ts",
];
const quality = process.env.QUALITY_TESTS === "1";

export default defineConfig({
  test: {
    include: quality ? QUALITY_TESTS : ["test/**/*.test.ts"],
    exclude: quality ? configDefaults.exclude : [...configDefaults.exclude, ...QUALITY_TESTS],
    // Native addons (onnxruntime-node, sharp, faiss-node) are safest in forked processes.
    pool: "forks",
    // Two cores: two test files at a time, each loading small models.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
