/** Without bullmq (an optional peer), the package still loads, and queued indexing says what to install. */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../helpers/fixtures.js";
import { writeHideModuleHook } from "../helpers/hide_module.js";

describe("distributed indexing without bullmq", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let register: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    register = await writeHideModuleHook(dir, "bullmq");
    await writeFile(
      join(dir, "child.mts"),
      `import { ImageFaissStore, indexFoldersQueued, startIndexWorker } from ${JSON.stringify(pathToFileURL(join(ROOT, "src/index.ts")).href)};
       console.log("loaded", typeof ImageFaissStore);
       for (const run of [
         () => indexFoldersQueued(["."], { queue: "redis://127.0.0.1:1", store: "postgres://u:pw@127.0.0.1:1/db" }),
         () => startIndexWorker({ queue: "redis://127.0.0.1:1", store: "postgres://u:pw@127.0.0.1:1/db" }),
       ]) {
         try {
           await run();
           console.log("NO ERROR");
         } catch (error) {
           console.log(error.name + ": " + error.message);
         }
       }`,
    );
  });
  afterAll(() => cleanup());

  it("imports the package, and names bullmq and how to install it when a coordinator or worker starts", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--import", register, join(dir, "child.mts")],
      { cwd: ROOT },
    );
    expect(stdout).toContain("loaded function");
    const errors = stdout.split("\n").filter((line) => line.startsWith("MissingDependencyError"));
    expect(errors).toHaveLength(2);
    for (const line of errors) expect(line).toContain(`Could not load "bullmq" (Cannot find package 'bullmq')`);
    expect(stdout).toContain("npm install bullmq@^6.7.0 ioredis@^5.11.1");
    expect(stdout).not.toContain("NO ERROR");
  });
});
