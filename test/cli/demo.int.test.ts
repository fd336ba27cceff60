/** `npm run demo` (examples/demo.ts) runs offline and prints what the README shows. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { tempDir, TINY_CLIP } from "../helpers/fixtures.js";
import { runTsx } from "../helpers/run_process.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("lie-demo-"));
});
afterAll(async () => {
  await cleanup?.();
});

it("indexes the sample images, searches them, and says how to serve and switch models", async () => {
  const run = await runTsx("examples/demo.ts", [], {
    env: { ...process.env, DEMO_DIR: dir, DEMO_MODEL: TINY_CLIP },
    timeoutMs: 180_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const out = run.stdout;
  expect(out).toContain("50 added, 0 updated, 0 removed, 0 unchanged, 0 failed");
  expect(out).toContain(": 49 distinct images");
  expect(out).toContain("0 added, 0 updated, 0 removed, 50 unchanged, 0 failed");
  // The first hit of each text query is the class asked for.
  const firstHit = (query: string) =>
    new RegExp(`search "${query}" -k 3\\n.*\\n\\s+1\\s+\\S+\\s+(\\S+)`).exec(out)?.[1];
  expect(firstHit("a red circle")).toMatch(/\/red\/circle-[12]\.png$/);
  expect(firstHit("a blue star")).toMatch(/\/blue\/star-[12]\.png$/);
  // The planted duplicates: a byte-identical copy, and a smaller JPEG grouped with its original.
  const duplicates = out.slice(out.indexOf("$ image-embeddings duplicates"), out.indexOf("\nBrowse the results"));
  const groups = duplicates.split(/\n {4}Group \d+: /).slice(1);
  const copy = groups.find((g) => g.includes("copies/green-triangle.png"));
  expect(copy).toContain("copies/green-triangle.png\n      = ");
  expect(copy).toMatch(/= \S*green\/triangle-1\.png$/m);
  expect(groups.find((g) => g.includes("copies/orange-star-small.jpg"))).toMatch(/\S*orange\/star-2\.png$/m);
  expect(out).toContain("node dist/cli.js serve --index");
  expect(out).toContain("DEMO_MODEL=Xenova/clip-vit-base-patch32 npm run demo");
});
