/**
 * Issue 18: an app that embeds text chunks with @langchain/community's
 * HuggingFaceTransformersEmbeddings and images with this package, in one process. It is
 * installed with the README's "With @langchain/community" recipe (an npm override puts
 * community on our transformers.js), so one onnxruntime-node serves the process. Before,
 * community pulled in transformers.js 3.8.1 / onnxruntime-node 1.21 and the app aborted with
 * exit 134 on its second round.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConsumerProject, expectSuccess, type ConsumerProject } from "../helpers/consumer_project.js";
import { FIXTURE_IMAGES, ROOT, TINY_CLIP } from "../helpers/fixtures.js";

const ROUNDS = 12;
// The versions this repository is tested with, which the README's recipe names.
const ourManifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const testedVersion = (name: string): string => ourManifest.devDependencies[name] ?? ourManifest.dependencies[name];
const transformersVersion = testedVersion("@huggingface/transformers");
const communityVersion = testedVersion("@langchain/community");

let project: ConsumerProject;

beforeAll(async () => {
  project = await createConsumerProject({
    // The README's recipe names @langchain/core's version: beside community, a plain one resolves to 0.3.x.
    packages: [
      `@huggingface/transformers@${transformersVersion}`,
      `@langchain/community@${communityVersion}`,
      `@langchain/core@${testedVersion("@langchain/core")}`,
    ],
    overrides: { "@huggingface/transformers": "$@huggingface/transformers" },
  });
  await project.addFixture("community_side_by_side.mjs");
}, 15 * 60_000);

afterAll(async () => {
  await project?.cleanup();
});

describe("beside @langchain/community's transformers.js embeddings", () => {
  it("installs one transformers.js and one onnxruntime-node for the whole app", async () => {
    const ls = await project.run("npm", [
      "ls",
      "--all",
      "--parseable",
      "@huggingface/transformers",
      "onnxruntime-node",
    ]);
    expect(ls.code, ls.stderr).toBe(0);
    const paths = ls.stdout.split("\n").filter((line) => /node_modules\//.test(line));
    const copies = (name: string) => paths.filter((p) => p.endsWith(`node_modules/${name}`));
    expect(copies("@huggingface/transformers")).toEqual([join(project.dir, "node_modules/@huggingface/transformers")]);
    expect(copies("onnxruntime-node")).toHaveLength(1);
  });

  it(`runs both embedders alternately and concurrently for ${ROUNDS} rounds without aborting`, async () => {
    const task = {
      textModel: join(ROOT, "test/fixtures/models/tiny-bert"),
      imageModel: TINY_CLIP,
      images: ["red-circle-80.png", "blue-square-80.png", "green-star.webp"].map((f) => join(FIXTURE_IMAGES, f)),
      rounds: ROUNDS,
    };
    const result = expectSuccess(
      await project.run("node", ["community_side_by_side.mjs", JSON.stringify(task)], { timeoutMs: 5 * 60_000 }),
    );
    const output = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    expect(output).toMatchObject({ rounds: ROUNDS, textDimension: 32, imageDimension: 64, imageCount: 3 });
    // Identical vectors in every round, on both sides.
    expect(output.distinctImageRounds).toBe(1);
    expect(output.distinctTextRounds).toBe(1);
  });
});
