/** Without faiss-node, the store says what to install instead of a bare module error. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../helpers/fixtures.js";
import { writeHideModuleHook } from "../helpers/hide_module.js";

describe("ImageFaissStore without faiss-node", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let register: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    register = await writeHideModuleHook(dir, "faiss-node");
  });
  afterAll(() => cleanup());

  it("names faiss-node and the ways to install it", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--import", register, join(ROOT, "test/helpers/store_without_faiss.ts")],
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
