/** Without faiss-node, the store says what to install instead of a bare module error. */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../helpers/fixtures.js";

describe("ImageFaissStore without faiss-node", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    // A module resolution hook that makes faiss-node unresolvable, as on a machine without it.
    await writeFile(
      join(dir, "hide-faiss.mjs"),
      `export async function resolve(specifier, context, next) {
         if (specifier === "faiss-node") {
           const error = new Error("Cannot find package 'faiss-node'");
           error.code = "ERR_MODULE_NOT_FOUND";
           throw error;
         }
         return next(specifier, context);
       }`,
    );
    await writeFile(
      join(dir, "register.mjs"),
      `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(join(dir, "hide-faiss.mjs")).href)});`,
    );
  });
  afterAll(() => cleanup());

  it("names faiss-node and the ways to install it", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--import", join(dir, "register.mjs"), join(ROOT, "test/helpers/store_without_faiss.ts")],
      { cwd: ROOT },
    );
    expect(stdout).toContain(
      "MissingDependencyError: Could not load \"faiss-node\" (Cannot find package 'faiss-node')",
    );
    expect(stdout).toContain("npm install faiss-node");
    expect(stdout).toContain("sudo apt-get install libfaiss-dev");
    expect(stdout).toContain("scripts/install-faiss-node.mjs");
    expect(stdout).toContain("MemoryVectorStore");
  });
});
