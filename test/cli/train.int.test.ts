/** `image-embeddings train`: class folders and JSONL data, the embedding cache, the head file, and errors. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, loadProjectionHead } from "../../src/index.js";
import { tempDir } from "../helpers/fixtures.js";
import { COLOURS, SHAPES } from "../helpers/shapes.js";
import { TINY_CLIP, ensureBuilt, runCli, writeShapes, type ShapeFile } from "./helpers.js";

describe("image-embeddings train", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const files: ShapeFile[] = COLOURS.slice(0, 3).flatMap((colour, ci) =>
    SHAPES.flatMap((shape, si) =>
      Array.from({ length: 4 }, (_, k) => ({
        file: `classes/${colour}/${shape}-${k}.png`,
        colour,
        shape,
        seed: 3000 + ci * 100 + si * 10 + k,
      })),
    ),
  );

  beforeAll(async () => {
    await ensureBuilt();
    ({ dir, cleanup } = await tempDir("lie-train-"));
    await writeShapes(dir, files);
    await writeFile(join(dir, "classes/red/notes.txt"), "not an image");
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it("trains on a folder per class, writes a head that ImageEmbeddings loads, and reuses its embedding cache", async () => {
    const out = join(dir, "colour-head.json");
    const args = [
      "train",
      join(dir, "classes"),
      "--out",
      out,
      "--model",
      TINY_CLIP,
      "--head",
      "linear",
      "--output-dim",
      "16",
      "--epochs",
      "5",
      "--seed",
      "3",
    ];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Embedded ${files.length} new items (cache: `);
    expect(first.stdout).toMatch(/^epoch 1: loss \d+\.\d{4}, validation \d\.\d{3}$/m);
    expect(first.stdout).toMatch(
      /Held-out recall@1: \d\.\d{3} without a head, \d\.\d{3} with it \(best epoch \d+, [\d.]+ s\)\./,
    );
    const head = loadProjectionHead(out);
    expect(head.shape).toEqual({ kind: "linear", inputDim: 64, hiddenDim: 0, outputDim: 16 });
    const file = JSON.parse(await readFile(out, "utf8"));
    expect(file.training).toMatchObject({
      data: "classes",
      loss: { type: "triplet", distance: "cosine", margin: 0.2, mining: "batch-hard" },
    });
    const embeddings = new ImageEmbeddings({ model: TINY_CLIP, projectionHead: out });
    expect(await embeddings.embedQuery("a red circle")).toHaveLength(16);
    await embeddings.dispose();

    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("Embedded 0 new items");
    // Same data, same seed: the same head.
    expect(loadProjectionHead(out).id).toBe(head.id);
  });

  it("trains InfoNCE on image-caption pairs and triplet loss on triplets from JSONL, skipping unreadable images", async () => {
    const pairs = files.map((f) => JSON.stringify({ image: f.file, text: `a ${f.colour} ${f.shape}` }));
    pairs.push(JSON.stringify({ image: "classes/missing.png", text: "nothing" }));
    await writeFile(join(dir, "pairs.jsonl"), pairs.join("\n"));
    const paired = await runCli([
      "train",
      join(dir, "pairs.jsonl"),
      "--loss",
      "infonce",
      "--out",
      join(dir, "pairs-head.json"),
      "--model",
      TINY_CLIP,
      "--epochs",
      "3",
    ]);
    expect(paired.code, paired.stderr).toBe(0);
    expect(paired.stderr).toMatch(/skipped \S*classes\/missing\.png: /);
    expect(paired.stdout).toMatch(/Held-out recall@1: /);

    const triplets = files
      .slice(0, 12)
      .map((f, i) =>
        JSON.stringify({ anchor: f.file, positive: files[(i + 1) % 4].file, negative: files[40 + (i % 8)].file }),
      );
    await writeFile(join(dir, "triplets.jsonl"), `// anchor, positive, negative\n${triplets.join("\n")}\n`);
    const tripleted = await runCli([
      "train",
      join(dir, "triplets.jsonl"),
      "--out",
      join(dir, "triplet-head.json"),
      "--model",
      TINY_CLIP,
      "--epochs",
      "3",
    ]);
    expect(tripleted.code, tripleted.stderr).toBe(0);
    expect(tripleted.stdout).toMatch(/Held-out satisfied triplets: /);
  });

  it("explains bad data", async () => {
    await writeFile(join(dir, "bad.jsonl"), '{"anchor": "a.png", "positive": "b.png", "negative": "c.png"}\n{oops\n');
    const bad = await runCli(["train", join(dir, "bad.jsonl"), "--out", join(dir, "x.json"), "--model", TINY_CLIP]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.jsonl:2: not valid JSON/);
    const none = await runCli(["train", join(dir, "nowhere"), "--out", join(dir, "x.json"), "--model", TINY_CLIP]);
    expect(none.stderr).toMatch(/No training data at \S*nowhere/);
    const oneClass = await runCli([
      "train",
      join(dir, "classes/red"),
      "--out",
      join(dir, "x.json"),
      "--model",
      TINY_CLIP,
    ]);
    expect(oneClass.stderr).toMatch(/needs at least two class folders with images \(found 0\)/);
  });
});
