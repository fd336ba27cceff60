/** Without pg (an optional peer), the package still loads, and the Postgres store says what to install. */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../helpers/fixtures.js";
import { writeHideModuleHook } from "../helpers/hide_module.js";

describe("PgvectorImageStore without pg", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let register: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    register = await writeHideModuleHook(dir, "pg");
    await writeFile(
      join(dir, "child.mts"),
      `import { ImageFaissStore, PgvectorImageStore } from ${JSON.stringify(pathToFileURL(join(ROOT, "src/index.ts")).href)};
       console.log("loaded", typeof ImageFaissStore);
       const embeddings = { embedQuery: async () => [], embedDocuments: async () => [] };
       try {
         await PgvectorImageStore.initialize(embeddings, { connectionString: "postgres://u:pw@127.0.0.1:1/db", dimension: 2 });
         console.log("NO ERROR");
       } catch (error) {
         console.log(error.name + ": " + error.message);
       }`,
    );
  });
  afterAll(() => cleanup());

  it("imports the package, and names pg and how to install it when the store is opened", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--import", register, join(dir, "child.mts")],
      { cwd: ROOT },
    );
    expect(stdout).toContain("loaded function");
    expect(stdout).toContain(`MissingDependencyError: Could not load "pg" (Cannot find package 'pg')`);
    expect(stdout).toContain("npm install pg");
  });
});
