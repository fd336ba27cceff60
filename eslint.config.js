// ESLint flat config: typescript-eslint's recommended rules, as LangChain.js uses,
// over the library, tests, examples, benchmarks and scripts. Formatting is prettier's job.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "coverage/", ".cache/", "test-artifacts/", "node_modules/", "test/fixtures/", ".venv/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a parameter or binding that is unused on purpose.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
  },
  {
    // Benchmark results are JSON lines read back from child processes: untyped data.
    files: ["bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // The web page's script runs in the browser.
    files: ["src/server/page.ts"],
    languageOptions: { globals: { ...globals.browser } },
  },
);
