/**
 * The packed package, installed into a fresh project with the README's recipe for machines
 * without GitHub access, used from ESM and CommonJS programs, type-checked strictly, and
 * linted by publint and arethetypeswrong. One pack and one install serve every test.
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import semver from "semver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createConsumerProject,
  diskUsageBytes,
  expectSuccess,
  NPM_QUIET,
  PACKAGE_NAME,
  packagesRejectingNode,
  runCommand,
  transcript,
  type ConsumerProject,
} from "../helpers/consumer_project.js";
import { FIXTURE_IMAGES, ROOT, TINY_CLIP } from "../helpers/fixtures.js";

const ourManifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const devVersion = (name: string): string => ourManifest.devDependencies[name];

/** Text queries and the fixture image that tiny-clip ranks first for each (its class). */
const TEXT_QUERIES: Record<string, string> = {
  "a photo of a red circle": "red-circle-80.png",
  "a photo of a blue square": "blue-square-80.png",
  "a photo of a green triangle": "green-triangle-800x600.jpg",
  "a photo of a purple star": "purple-star-600x800.jpg",
  "a photo of a yellow square": "yellow-square-palette.png",
};
const IMAGE_QUERIES = ["orange-circle-40x30.png", "green-star.webp"];
const FIXTURE_FILES = [
  "red-circle-80.png",
  "blue-square-80.png",
  "blue-square-gray.png",
  "green-triangle-800x600.jpg",
  "green-star.webp",
  "purple-star-600x800.jpg",
  "purple-triangle-rgba.png",
  "orange-star-exif6.jpg",
  "orange-circle-40x30.png",
  "yellow-square-palette.png",
];

type Hits = [file: string, score: number][];
interface ProgramOutput {
  entry: string;
  size: number;
  byText: Record<string, Hits>;
  byImage: Record<string, Hits>;
  reloaded: { size: number } & Record<string, Hits>;
}

/** The strict compiler options every tsc check shares; each adds its module settings. */
const STRICT_TYPES = { target: "es2022", lib: ["es2022"], strict: true, skipLibCheck: false, noEmit: true };
/**
 * @langchain/core's own CommonJS types (1.4.0) import js-tiktoken/lite, whose types are ES
 * modules only, so tsc reports TS1479 in them for every CommonJS program under node16 that
 * reaches its language-model types; no package built on @langchain/core can change that.
 * Only that error is let through, and only in that check.
 */
const CORE_TIKTOKEN_TS1479 =
  /^node_modules\/@langchain\/core\/dist\/[\w/]+\.d\.cts\(\d+,\d+\): error TS1479: .*import\("js-tiktoken\/lite"\)/;
const TSC_CHECKS = [
  { name: "node16, an ES module", module: "node16", moduleResolution: "node16", file: "types/esm.mts" },
  {
    name: "node16, a CommonJS module",
    module: "node16",
    moduleResolution: "node16",
    file: "types/cjs.cts",
    upstream: CORE_TIKTOKEN_TS1479,
  },
  { name: "bundler, module esnext", module: "esnext", moduleResolution: "bundler", file: "types/bundler.ts" },
  { name: "bundler, module preserve", module: "preserve", moduleResolution: "bundler", file: "types/bundler.ts" },
];

describe("the packed package, installed as a consumer would", () => {
  let project: ConsumerProject;

  beforeAll(async () => {
    project = await createConsumerProject();
    const bytes = await diskUsageBytes(join(project.dir, "node_modules"));
    console.log(`[consumer] node_modules after the install recipe: ${(bytes / 1e6).toFixed(0)} MB (du -sk)`);

    // What a TypeScript user adds, at this repository's versions; after the size above, which
    // counts what our package brings only.
    const tools = await project.run("npm", [
      "install",
      "--ignore-scripts",
      "--save-dev",
      ...NPM_QUIET,
      `typescript@${devVersion("typescript")}`,
      `@types/node@${devVersion("@types/node")}`,
    ]);
    expectSuccess(tools);
    await mkdir(join(project.dir, "types"));
    for (const { file } of TSC_CHECKS) await project.addFixture("uses_types.ts", file);
    for (const name of ["esm.mjs", "cjs.cjs", "search_images.cjs"]) await project.addFixture(name);
  }, 25 * 60_000);

  afterAll(async () => {
    await project?.cleanup();
  });

  it("ships no source maps, and ships the README, the LICENSE and the faiss-node install script", async () => {
    const listing = expectSuccess(await runCommand("tar", ["-tzf", project.tarball], { cwd: ROOT }));
    const files = listing.stdout.trim().split("\n");
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining([
        "package/README.md",
        "package/LICENSE",
        "package/package.json",
        "package/dist/index.js",
        "package/dist/index.cjs",
        "package/dist/index.d.ts",
        "package/dist/index.d.cts",
        "package/dist/tower_worker.js",
        "package/dist/tower_worker.cjs",
        "package/dist/training_worker.js",
        "package/dist/training_worker.cjs",
        "package/dist/cli.js",
        "package/scripts/install-faiss-node.mjs",
        "package/scripts/faiss-node/buffer-methods.cc",
      ]),
    );
  });

  it("installs with the recipe, and its postinstall leaves a faiss-node that loads and searches", () => {
    expect(project.installLog).toContain("npm install --ignore-scripts");
    expect(project.installLog).toContain(`npm rebuild ${PACKAGE_NAME}`);
    expect(project.installLog).toMatch(/\[faiss-node\] ready \((prebuilt binary|source build)\)/);
  });

  it("prints no EBADENGINE warning while installing on this Node", () => {
    const warned = [...project.installLog.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((m) => m[1]);
    expect(warned).toEqual([]);
    expect(project.installLog).not.toContain("EBADENGINE");
  });

  it("installs only packages whose engines admit the lowest Node that our engines field claims", async () => {
    const lowest = semver.minVersion(ourManifest.engines.node)!.version;
    expect(semver.major(lowest)).toBe(20);
    expect(await packagesRejectingNode(join(project.dir, "node_modules"), lowest)).toEqual([]);
  });

  /** Runs a program that prints one JSON line and checks its searches. */
  async function runProgram(file: string, entryFile: string): Promise<void> {
    const task = {
      model: TINY_CLIP,
      images: FIXTURE_FILES.map((f) => join(FIXTURE_IMAGES, f)),
      textQueries: Object.keys(TEXT_QUERIES),
      imageQueries: IMAGE_QUERIES.map((f) => join(FIXTURE_IMAGES, f)),
    };
    const run = await project.run(process.execPath, [file, JSON.stringify(task)], { timeoutMs: 5 * 60_000 });
    expectSuccess(run);
    const out = JSON.parse(run.stdout.trim().split("\n").pop()!) as ProgramOutput;

    // The package itself, from the project's node_modules, through the entry for its module system.
    expect(out.entry.endsWith(`/node_modules/${PACKAGE_NAME}/dist/${entryFile}`)).toBe(true);
    expect(out.size).toBe(FIXTURE_FILES.length);
    for (const [query, expected] of Object.entries(TEXT_QUERIES)) {
      const hits = out.byText[query];
      expect(hits[0][0], query).toBe(expected);
      for (const [, score] of hits) {
        expect(score).toBeGreaterThanOrEqual(-1);
        expect(score).toBeLessThanOrEqual(1);
      }
      expect(hits[0][1]).toBeGreaterThan(hits[1][1]);
    }
    for (const image of IMAGE_QUERIES) {
      const [[file, score]] = out.byImage[image];
      expect(file).toBe(image);
      expect(score).toBeGreaterThan(0.999);
      expect(score).toBeLessThanOrEqual(1 + 1e-6);
    }
    const firstQuery = Object.keys(TEXT_QUERIES)[0];
    expect(out.reloaded.size).toBe(FIXTURE_FILES.length);
    expect(out.reloaded[firstQuery]).toEqual(out.byText[firstQuery]);
  }

  it(
    "an ES module embeds the images, searches them by text and by image, saves and reloads",
    async () => {
      await runProgram("esm.mjs", "index.js");
    },
    6 * 60_000,
  );

  it(
    "a CommonJS module does the same through require()",
    async () => {
      await runProgram("cjs.cjs", "index.cjs");
    },
    6 * 60_000,
  );

  it.each(TSC_CHECKS)(
    "tsc --noEmit passes with strict and skipLibCheck: false, $name",
    async ({ name, module, moduleResolution, file, upstream }) => {
      const config = join(project.dir, `tsconfig.${name.replace(/\W+/g, "-")}.json`);
      const compilerOptions = { ...STRICT_TYPES, module, moduleResolution };
      await writeFile(config, JSON.stringify({ compilerOptions, files: [file] }));
      const tsc = await project.run(process.execPath, ["node_modules/typescript/bin/tsc", "-p", config]);
      const errors = (tsc.stdout + tsc.stderr).split("\n").filter((line) => line.trim() !== "");
      expect(errors.filter((line) => !upstream?.test(line))).toEqual([]);
      if (errors.length === 0) expect(tsc.code).toBe(0);
    },
    3 * 60_000,
  );

  it("the image-embeddings command runs from the project's node_modules/.bin", async () => {
    const help = expectSuccess(await project.run(join(project.dir, "node_modules/.bin/image-embeddings"), ["--help"]));
    expect(help.stdout).toMatch(/\bindex\b/);
    expect(help.stdout).toMatch(/\bsearch\b/);
    const version = expectSuccess(await project.run(join(project.dir, "node_modules/.bin/image-embeddings"), ["-V"]));
    expect(version.stdout.trim()).toBe(ourManifest.version);
  });

  it("publint finds nothing in the tarball, not even a suggestion", async () => {
    const publint = await runCommand(
      process.execPath,
      [join(ROOT, "node_modules/publint/src/cli.js"), "run", project.tarball, "--level", "suggestion", "--strict"],
      { cwd: ROOT },
    );
    const output = transcript([publint]);
    expect(output).not.toMatch(/Suggestions:|Warnings:|Errors:/);
    expect(publint.code, output).toBe(0);
  });

  it("arethetypeswrong finds no problem for node10, node16 (ESM and CJS) and bundler", async () => {
    const attw = await runCommand(
      process.execPath,
      [join(ROOT, "node_modules/@arethetypeswrong/cli/dist/index.js"), project.tarball, "--format", "json"],
      { cwd: ROOT },
    );
    // Problems come grouped by kind: {} when there are none.
    const report = JSON.parse(attw.stdout) as { problems?: Record<string, unknown[]>; analysis: { types: unknown } };
    expect(report.analysis.types).toEqual({ kind: "included" });
    expect(report.problems).toEqual({});
    expect(attw.code, attw.stderr).toBe(0);
  });
});
