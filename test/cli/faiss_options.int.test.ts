/**
 * The CLI's FAISS store options, end to end with the built CLI and tiny-clip on generated
 * shape images: a compressed IVF index with its vectors on disk, searched with --nprobe and
 * --rerank against an exact Flat index; saved defaults (nprobe, efSearch) and the vector
 * placement changed on an existing index; `serve` prefetching the vectors; clear errors.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSearchParams } from "../../src/vectorstores/faiss_params.js";
import { tempDir } from "../helpers/fixtures.js";
import {
  CLI,
  cliEnv,
  collect,
  ensureBuilt,
  parseJson,
  runCli,
  TINY_CLIP,
  writeShapes,
  type ShapeFile,
} from "./helpers.js";

const COLOURS = ["red", "blue", "green", "yellow", "orange", "purple"] as const;
const SHAPES = ["circle", "square", "triangle", "star"] as const;
/** 24 images: enough to train "IVF4,Flat" on 20 of them. */
const GALLERY: ShapeFile[] = COLOURS.flatMap((colour, c) =>
  SHAPES.map((shape, s) => ({ file: `${colour}-${shape}.png`, colour, shape, seed: 100 + 4 * c + s })),
);

interface Hit {
  id: string;
  score: number;
  path: string;
}
interface Manifest {
  indexType: string;
  count: number;
  dimension: number;
  version: number;
  vectorFiles?: { file: string; rows: number }[];
  storeOptions?: { rerank: number; trainSize?: number };
}

let dir: string;
let photos: string;
let flat: string;
let ivf: string;
let cleanup: () => Promise<void>;

const version = async (index: string) => join(index, (await readFile(join(index, "CURRENT"), "utf8")).trim());
const manifestOf = async (index: string): Promise<Manifest> =>
  JSON.parse(await readFile(join(await version(index), "manifest.json"), "utf8"));
/** The search parameters saved in the current version's faiss index. */
const savedParams = async (index: string) => {
  const bytes = await readFile(join(await version(index), "faiss.index"));
  return readSearchParams((offset, length) => bytes.subarray(offset, offset + length), bytes.length);
};
const search = async (index: string, query: string[], extra: string[] = []) => {
  const run = await runCli(["search", ...query, "--index", index, "-k", "5", "--json", ...extra]);
  expect(run.code, run.stderr).toBe(0);
  return parseJson<{ results: Hit[] }>(run).results;
};
const index = async (target: string, extra: string[]) => {
  const run = await runCli(["index", photos, "--index", target, "--json", "--no-progress", ...extra]);
  expect(run.code, run.stderr).toBe(0);
  return parseJson<{ added: number; unchanged: number; entries: number }>(run);
};
const exactResults = new Map<string, Promise<Hit[]>>();
/** The exact Flat index's top 5, searched once per query. */
const exact = (query: string[]) => {
  const key = query.join("\0");
  if (!exactResults.has(key)) exactResults.set(key, search(flat, query));
  return exactResults.get(key)!;
};

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("lie-cli-faiss-"));
  photos = join(dir, "photos");
  flat = join(dir, "flat");
  ivf = join(dir, "ivf");
  await writeShapes(photos, GALLERY);
  await ensureBuilt();
  expect(await index(flat, ["--model", TINY_CLIP])).toMatchObject({ added: 24, entries: 24 });
}, 240_000);

afterAll(async () => {
  await cleanup?.();
});

describe("FAISS store options", () => {
  it("builds a trained IVF index with its vectors on disk and nprobe saved; --nprobe --rerank search it exactly", async () => {
    const built = await index(ivf, [
      "--model",
      TINY_CLIP,
      "--index-type",
      "IVF4,Flat",
      "--train-size",
      "20",
      "--vectors-on-disk",
      "--nprobe",
      "2",
    ]);
    expect(built).toMatchObject({ added: 24, entries: 24 });
    const manifest = await manifestOf(ivf);
    expect(manifest).toMatchObject({ indexType: "IVF4,Flat", count: 24, version: 3 });
    expect(manifest.vectorFiles!.reduce((n, f) => n + f.rows, 0)).toBe(24);
    // Trained on 20 of 24 (a faiss index is saved only once trained), with the nprobe asked for.
    expect(await savedParams(ivf)).toEqual({ nprobe: 2 });

    for (const query of [["a red circle"], ["--image", join(photos, "green-star.png")]]) {
      const top = await exact(query);
      const reranked = await search(ivf, query, ["--nprobe", "4", "--rerank", "10"]);
      expect(reranked.map((h) => h.id)).toEqual(top.map((h) => h.id));
      reranked.forEach((h, i) => expect(h.score).toBeCloseTo(top[i].score, 6));
      // Re-scored in JS doubles, not faiss' float32: the re-rank ran.
      expect(reranked.some((h) => Math.fround(h.score) !== h.score)).toBe(true);
      expect(top.every((h) => Math.fround(h.score) === h.score)).toBe(true);
    }
  }, 180_000);

  it("serve keeps the saved vector placement and prefetches the vectors in the background once started", async () => {
    const server = spawn(
      process.execPath,
      [CLI, "serve", "--index", ivf, "--port", "0", "--nprobe", "4", "--rerank", "10"],
      {
        env: cliEnv(),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = collect(server);
    let output = "";
    try {
      const { dimension } = await manifestOf(ivf);
      const bytes = 24 * dimension * 4;
      const prefetched = `Prefetched ${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes.toLocaleString("en-US")} bytes) of vectors in`;
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 60_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
          if (url && output.includes(prefetched)) {
            clearTimeout(timer);
            resolve(url);
          }
        };
        server.stdout!.on("data", onData);
        server.stderr!.on("data", onData);
        server.on("exit", (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
      });
      expect(output).toContain("Prefetching the vector files into the page cache in the background...");
      const response = await fetch(`${base}api/search?q=${encodeURIComponent("a red circle")}&k=5`);
      expect(response.status).toBe(200);
      const { results } = (await response.json()) as { results: Hit[] };
      expect(results.map((h) => h.id)).toEqual((await exact(["a red circle"])).map((h) => h.id));
      expect(results.some((h) => Math.fround(h.score) !== h.score)).toBe(true);
    } finally {
      server.kill("SIGTERM");
      await exited;
    }
  }, 180_000);

  it("saves new search defaults and moves the vectors of an existing index, though no file changed", async () => {
    expect(await index(ivf, ["--nprobe", "3"])).toMatchObject({ added: 0, unchanged: 24 });
    expect(await savedParams(ivf)).toEqual({ nprobe: 3 });
    // Without --vectors-on-disk the vectors stay where the index keeps them.
    expect((await manifestOf(ivf)).vectorFiles).toBeDefined();

    expect(await index(ivf, ["--no-vectors-on-disk"])).toMatchObject({ added: 0, unchanged: 24 });
    const inMemory = await manifestOf(ivf);
    expect(inMemory.vectorFiles).toBeUndefined();
    expect(existsSync(join(await version(ivf), "vectors.f32"))).toBe(true);
    expect(await savedParams(ivf)).toEqual({ nprobe: 3 });
    const reranked = await search(ivf, ["a red circle"], ["--nprobe", "4", "--rerank", "10"]);
    expect(reranked.map((h) => h.id)).toEqual((await exact(["a red circle"])).map((h) => h.id));

    // --rerank given to index is saved: a search without it re-ranks (exact scores, in JS doubles).
    expect(await index(ivf, ["--rerank", "10", "--nprobe", "4"])).toMatchObject({ added: 0, unchanged: 24 });
    expect((await manifestOf(ivf)).storeOptions).toEqual({ rerank: 10, trainSize: 20 });
    const savedRerank = await search(ivf, ["a red circle"], []);
    expect(savedRerank.map((h) => h.id)).toEqual((await exact(["a red circle"])).map((h) => h.id));
    expect(savedRerank.some((h) => Math.fround(h.score) !== h.score)).toBe(true);
    const noRerank = await search(ivf, ["a red circle"], ["--rerank", "0"]);
    expect(noRerank.every((h) => Math.fround(h.score) === h.score)).toBe(true);

    // duplicates reads the vectors wherever asked; same groups either way.
    const inPlace = await runCli(["duplicates", "--index", ivf, "--threshold", "0.9", "--json", "--vectors-on-disk"]);
    const loaded = await runCli(["duplicates", "--index", ivf, "--threshold", "0.9", "--json"]);
    expect(inPlace.code, inPlace.stderr).toBe(0);
    expect(parseJson(inPlace)).toEqual(parseJson(loaded));
  }, 180_000);

  it("builds HNSW with --ef-construction and saves --ef-search", async () => {
    const hnsw = join(dir, "hnsw");
    await index(hnsw, [
      "--model",
      TINY_CLIP,
      "--index-type",
      "HNSW16",
      "--ef-construction",
      "80",
      "--ef-search",
      "48",
      "--threads",
      "1",
    ]);
    expect((await savedParams(hnsw)).efSearch).toBe(48);
    const found = await search(hnsw, ["a red circle"], ["--ef-search", "64"]);
    expect(found.map((h) => h.id)).toEqual((await exact(["a red circle"])).map((h) => h.id));
  }, 180_000);

  it("refuses bad values and options the index has no use for, naming the flag", async () => {
    const fails = async (args: string[], message: string) => {
      const run = await runCli(args);
      expect(run.code, run.stdout).toBe(1);
      expect(run.stderr).toContain(message);
    };
    await fails(
      ["search", "x", "--index", ivf, "--nprobe", "0"],
      'Expected a positive integer for --nprobe but received "0"',
    );
    await fails(
      ["search", "x", "--index", ivf, "--rerank", "-1"],
      'Expected a whole number >= 0 for --rerank but received "-1"',
    );
    await fails(
      ["serve", "--index", ivf, "--threads", "two"],
      'Expected a positive integer for --threads but received "two"',
    );
    await fails(
      ["search", "x", "--index", ivf, "--ef-search", "16"],
      '--ef-search applies to HNSW indexes only, and the index type is "IVF4,Flat"',
    );
    const fresh = join(dir, "never-built");
    await fails(
      ["index", photos, "--index", fresh, "--index-type", "IVF4,Flat", "--train-size", "2"],
      '--train-size 2 is too small for a "IVF4,Flat" index: it must be at least the number of IVF lists (4)',
    );
    await fails(
      ["index", photos, "--index", fresh, "--train-size", "20"],
      '--train-size applies to index types that need training (IVF, PQ, OPQ, SQ8), and the index type is "Flat" (the default',
    );
    await fails(
      ["index", photos, "--index", fresh, "--index-type", "HNSW32", "--nprobe", "4"],
      '--nprobe applies to IVF indexes only, and the index type is "HNSW32"',
    );
    await fails(
      [
        "index",
        photos,
        "--store",
        "postgres://nobody@127.0.0.1:1/none",
        "--queue",
        "redis://127.0.0.1:1",
        "--vectors-on-disk",
      ],
      "--vectors-on-disk: FAISS options, for the --index folder",
    );
    expect(existsSync(fresh)).toBe(false);

    const help = await runCli(["index", "--help"]);
    for (const flag of [
      "--ef-construction <n>",
      "--train-size <n>",
      "--ef-search <n>",
      "--nprobe <n>",
      "--rerank <n>",
      "--threads <n>",
      "--vectors-on-disk",
    ])
      expect(help.stdout).toContain(flag);
    const searchHelp = await runCli(["search", "--help"]);
    expect(searchHelp.stdout).toContain("--rerank <n>");
  });
});
