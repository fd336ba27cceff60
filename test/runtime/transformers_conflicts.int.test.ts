/**
 * What a user sees when their project holds the wrong transformers.js, or a second
 * onnxruntime-node: a clear error with the fix (`npm ls`, the npm override), never a bare
 * ERR_DLOPEN_FAILED. Both cases are real: transformers.js 3.8.1 (with its onnxruntime-node
 * 1.21.0) is installed into a temporary folder, as @langchain/community would bring it.
 */
import { spawnSync } from "node:child_process";
import { cp, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/ensure_built.js";
import { expectSuccess, NPM_QUIET, runCommand } from "../helpers/consumer_project.js";
import { ROOT, TINY_CLIP, tempDir } from "../helpers/fixtures.js";

/** Embeds a text with the built package at `dist` and prints the error's name and message. */
const embedText = (dist: string, inference: string, before = "") => `
${before}
const lib = await import(${JSON.stringify(join(dist, "index.js"))});
const embeddings = new lib.ImageEmbeddings({ model: ${JSON.stringify(TINY_CLIP)}, inference: ${JSON.stringify(inference)} });
try {
  await embeddings.embedQuery("a red circle");
  console.log(JSON.stringify({ name: "none" }));
} catch (error) {
  console.log(JSON.stringify({ name: error.name, message: error.message, cause: String(error.cause?.message) }));
}`;

function run(program: string, cwd: string): { name: string; message: string; cause: string } {
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", program], {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!);
}

/** The fix both errors give, in one copy. */
function expectTheFix(message: string) {
  expect(message).toContain("npm ls @huggingface/transformers");
  expect(message).toContain('"overrides": { "@huggingface/transformers": "$@huggingface/transformers" }');
}

describe.runIf(process.platform === "linux")("transformers.js conflicts", () => {
  let folder: { dir: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    await ensureBuilt();
    folder = await tempDir("lie-transformers3-");
    await writeFile(join(folder.dir, "package.json"), JSON.stringify({ name: "old-transformers", private: true }));
    expectSuccess(
      await runCommand(
        "npm",
        ["install", "--ignore-scripts", "--prefer-offline", ...NPM_QUIET, "@huggingface/transformers@3.8.1"],
        { cwd: folder.dir },
      ),
    );
  }, 300_000);

  afterAll(async () => {
    await folder?.cleanup();
  });

  it.each(["main", "worker"])(
    "(inference: %s) explains a second onnxruntime-node in the process, with the fix",
    (inference) => {
      // Another library loaded onnxruntime-node 1.21 first; ours (1.30) then cannot bind.
      const before = `import { createRequire } from "node:module"; createRequire(${JSON.stringify(folder.dir + "/")})("onnxruntime-node");`;
      const error = run(embedText(join(ROOT, "dist"), inference, before), ROOT);
      expect(error.name).toBe("DependencyConflictError");
      expect(error.message).toContain("two different onnxruntime-node builds are in this process");
      expectTheFix(error.message);
      if (inference === "main") expect(error.cause).toMatch(/libonnxruntime\.so\.1: version `VERS_1\.30\.0' not found/);
    },
  );

  it("refuses transformers.js 3.x, naming both versions and the fix", async () => {
    // The built package inside a project whose top-level transformers.js is 3.8.1.
    const project = join(folder.dir, "app");
    await mkdir(project);
    await writeFile(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
    await cp(join(ROOT, "dist"), join(project, "dist"), { recursive: true });
    for (const name of ["@langchain", "zod", "picomatch", "cli-progress", "commander"]) {
      await symlink(join(ROOT, "node_modules", name), join(folder.dir, "node_modules", name)).catch(() => undefined);
    }
    const error = run(embedText(join(project, "dist"), "main"), project);
    expect(error.name).toBe("DependencyConflictError");
    expect(error.message).toContain("needs @huggingface/transformers 4.x, but 3.8.1 was loaded");
    expectTheFix(error.message);
  });
});
