/**
 * Runs every example in examples/ offline with tiny-clip, as a user would
 * (`npx tsx examples/<name>.ts`), and checks what it prints.
 *
 * tiny-clip's held-out class accuracy is 0.948 (docs/models.md): the checks ask for
 * the right class where the examples search for a class, and the right colour where
 * the query arithmetic changes only the colour.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { runTsx } from "../helpers/run_process.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("lie-examples-"));
});
afterAll(async () => {
  await cleanup?.();
});

async function runExample(name: string): Promise<string> {
  const run = await runTsx(`examples/${name}.ts`, [], {
    env: { ...process.env, EXAMPLES_DIR: dir, EXAMPLE_MODEL: TINY_CLIP },
  });
  expect(run.status, `${name} failed:\n${run.stderr}`).toBe(0);
  return run.stdout;
}

/** The result lines ("  0.731  path") printed under `title`, up to the next blank or unindented line. */
function resultsUnder(out: string, title: string): { score: number; file: string }[] {
  const lines = out.split("\n");
  const start = lines.indexOf(title);
  expect(start, `no "${title}" in:\n${out}`).toBeGreaterThanOrEqual(0);
  const results = [];
  for (const line of lines.slice(start + 1)) {
    const match = /^ {2}(-?\d\.\d{3}) {2}(\S+)$/.exec(line);
    if (!match) break;
    results.push({ score: Number(match[1]), file: match[2].split("/").at(-1)! });
  }
  return results;
}

const isDescending = (scores: number[]) => scores.every((s, i) => i === 0 || s <= scores[i - 1]);

describe("examples", () => {
  it("text_to_image: indexes 72 images and finds each described class, with and without a filter", async () => {
    const out = await runExample("text_to_image");
    expect(out).toContain("Indexed 72 images with ");
    expect(out).toContain("(64-d vectors)");
    for (const [query, label] of [
      ["a red circle", "red-circle"],
      ["a photo of a blue star", "blue-star"],
      ["yellow triangle", "yellow-triangle"],
    ]) {
      const hits = resultsUnder(out, `"${query}"`);
      expect(hits).toHaveLength(3);
      expect(isDescending(hits.map((h) => h.score))).toBe(true);
      for (const hit of hits) expect(hit.file).toMatch(new RegExp(`^${label}-\\d\\.png$`));
    }
    const greens = resultsUnder(out, `"a star", only green images:`);
    expect(greens).toHaveLength(3);
    for (const hit of greens) expect(hit.file).toMatch(/^green-/);
    expect(greens[0].file).toMatch(/^green-star-/);
  });

  it("image_to_image: finds images like the probe, leaves the probe out, and accepts bytes and MMR", async () => {
    const out = await runExample("image_to_image");
    const probe = /^Like (\S+):$/m.exec(out)![1].split("/").at(-1)!;
    expect(probe).toMatch(/^purple-square-\d\.png$/);
    const hits = resultsUnder(out, `Like ${/^Like (\S+):$/m.exec(out)![1]}:`);
    expect(hits).toHaveLength(4);
    expect(hits.map((h) => h.file)).not.toContain(probe);
    // The other two purple squares first, then images sharing the colour or the shape.
    expect(
      hits
        .slice(0, 2)
        .map((h) => h.file)
        .sort(),
    ).toEqual(["purple-square-0.png", "purple-square-1.png", "purple-square-2.png"].filter((f) => f !== probe));
    for (const hit of hits) expect(hit.file).toMatch(/^purple-|-square-/);
    expect(isDescending(hits.map((h) => h.score))).toBe(true);
    const byBytes = /^As bytes: (.*)$/m
      .exec(out)![1]
      .split(", ")
      .map((p) => p.split("/").at(-1));
    expect(byBytes).toEqual(hits.map((h) => h.file));
    const mmr = resultsUnder(out, /^(Like .*, diversified with MMR:)$/m.exec(out)![1]);
    expect(mmr).toHaveLength(4);
    expect(mmr[0].file).toBe(hits[0].file);
    expect(mmr.map((h) => h.file)).not.toContain(probe);
    // MMR trades relevance for variety: it picks at least one image that plain similarity did not.
    expect(mmr.filter((h) => !hits.some((s) => s.file === h.file)).length).toBeGreaterThan(0);
  });

  it("query_arithmetic: red circle − red + blue finds blue images, in both syntaxes", async () => {
    const out = await runExample("query_arithmetic");
    expect(out).toMatch(/^Terms: 1 × image \S+red-circle-\d\.png, -1 × "red", 1 × "blue"$/m);
    const title = /^("image:\S+ - red \+ blue")$/m.exec(out)![1];
    const viaString = resultsUnder(out, title);
    const viaObject = resultsUnder(out, '{ positive: [{ image }, "blue"], negative: ["red"] }');
    expect(viaString).toHaveLength(3);
    expect(viaObject).toEqual(viaString);
    for (const hit of viaString) expect(hit.file).toMatch(/^blue-/);
    const weighted = resultsUnder(out, '"green + 0.5*star"');
    expect(weighted).toHaveLength(3);
    for (const hit of weighted) expect(hit.file).toMatch(/^green-/);
  });

  it("rag_chain: the chat model receives the question and the retrieved images' own bytes as image blocks", async () => {
    const out = await runExample("rag_chain");
    expect(out).toContain("Answer:   I was shown 3 images for: Which of these shapes is a red circle?");
    const received = out.slice(out.indexOf("The model received:"), out.indexOf("The retrieved files:"));
    const blocks = received.split("\n").slice(1).filter(Boolean);
    expect(blocks[0]).toBe("  text   Which of these shapes is a red circle?");
    const imageHashes = blocks.flatMap(
      (b) => /^ {2}image {2}image\/png, \d+ bytes, sha256 ([0-9a-f]{12})$/.exec(b)?.[1] ?? [],
    );
    const captions = blocks.filter((b) => /^ {2}text {3}\[\d\] \S+red-circle-\d\.png \(score 0\.\d{3}\)$/.test(b));
    expect(imageHashes).toHaveLength(3);
    expect(captions).toHaveLength(3);
    const files = out.slice(out.indexOf("The retrieved files:")).split("\n").slice(1).filter(Boolean);
    const fileHashes = files.map((f) => /sha256 ([0-9a-f]{12})$/.exec(f)![1]);
    expect(fileHashes).toEqual(imageHashes);
  });

  it("agent_tool: the model calls image_search, gets JSON results and answers with the best match", async () => {
    const out = await runExample("agent_tool");
    expect(out).toContain('Tool "image_search": Search an image collection by meaning.');
    expect(out).toContain('Model calls image_search({"query":"a yellow square","k":2})');
    const results = JSON.parse(/^Tool returns (.*)$/m.exec(out)![1]) as {
      rank: number;
      score: number;
      source: string;
    }[];
    expect(results.map((r) => r.rank)).toEqual([1, 2]);
    for (const r of results) expect(r.source).toMatch(/\/yellow-\w+-\d\.png$/);
    expect(out).toContain("(artifact: 2 Documents)");
    const answer = /^Model answers: The closest image is (\S+) \(cosine ([\d.]+)\)\.$/m.exec(out)!;
    expect(results[0].source.endsWith(answer[1])).toBe(true);
    expect(Number(answer[2])).toBe(results[0].score);
  });

  it("fine_tune_head: a head trained on shape folders lifts held-out shape precision@10 far above plain search", async () => {
    const out = await runExample("fine_tune_head");
    expect(out).toMatch(/^Trained a mlp head in [\d.]+ s \(best epoch \d+\)\.$/m);
    const [, before, after] = /^Held-out precision@10 by shape \(72 new images\): (\d\.\d\d) → (\d\.\d\d)$/m
      .exec(out)!
      .map(Number);
    expect(before).toBeLessThanOrEqual(0.8);
    expect(after).toBeGreaterThanOrEqual(0.95);
    // With the head, the red star's nearest images after its own class are stars of other colours.
    const withHead = resultsUnder(out, /^(Like \S+, with the head:)$/m.exec(out)![1]);
    expect(withHead).toHaveLength(4);
    expect(withHead.filter((h) => h.file.match(/^(?!red)\w+-\d\.png$/)).length).toBeGreaterThanOrEqual(2);
  }, 120_000); // under tsx, training starts its own worker, which compiles its sources first
});
