/**
 * A projection head inside ImageEmbeddings and ImageFaissStore, on tiny-clip: the head
 * file round trip, identical vectors after reloading, a store built and searched with
 * the head, and a store refusing embeddings with another head (or none).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ImageEmbeddings,
  ImageFaissStore,
  ProjectionHead,
  loadProjectionHead,
  saveProjectionHead,
} from "../../src/index.js";
import { seededRandom } from "../../src/heads/random.js";
import { FIXTURE_IMAGES, TINY_CLIP, tempDir } from "../helpers/fixtures.js";

const IMAGES = ["red-circle-80.png", "blue-square-80.png", "green-triangle-800x600.jpg", "purple-star-600x800.jpg"].map(
  (f) => join(FIXTURE_IMAGES, f),
);

describe("projection heads with tiny-clip", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const plain = new ImageEmbeddings({ model: TINY_CLIP });
  const head = ProjectionHead.initialised({ kind: "mlp", inputDim: 64, hiddenDim: 48, outputDim: 32 }, seededRandom(4));
  head.params.set(Float32Array.from(head.params)); // as trained heads are: float32 values
  let headPath: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("lie-head-"));
    headPath = join(dir, "head.json");
    await saveProjectionHead(head, headPath, { note: "random test head" });
  });
  afterAll(async () => {
    await plain.dispose();
    await cleanup?.();
  });

  it("saves a versioned JSON file that reloads to the same weights and id", async () => {
    const file = JSON.parse(await readFile(headPath, "utf8"));
    expect(file).toMatchObject({
      format: "langchain-image-embeddings/projection-head",
      version: 1,
      kind: "mlp",
      inputDim: 64,
      hiddenDim: 48,
      outputDim: 32,
      id: head.id,
      training: { note: "random test head" },
    });
    const again = loadProjectionHead(headPath);
    expect(Array.from(again.params)).toEqual(Array.from(head.params));
    expect(again.id).toBe(head.id);
  });

  it("applies the head to images and texts: unit vectors of the head's size, equal to head(encoder vector)", async () => {
    const withHead = new ImageEmbeddings({ model: TINY_CLIP, projectionHead: headPath });
    expect(await withHead.getDimension()).toBe(32);
    const [raw, projected] = [await plain.embedImages(IMAGES), await withHead.embedImages(IMAGES)];
    for (const [i, v] of projected.entries()) {
      expect(v).toHaveLength(32);
      expect(Math.hypot(...v)).toBeCloseTo(1, 6);
      (await head.apply(raw[i])).forEach((x, k) => expect(v[k]).toBeCloseTo(x, 5));
    }
    const text = await withHead.embedQuery("a red circle");
    expect(text).toHaveLength(32);
    (await head.apply(await plain.embedQuery("a red circle"))).forEach((x, k) => expect(text[k]).toBeCloseTo(x, 5));

    // A head object and its reloaded file give identical vectors.
    const fromObject = new ImageEmbeddings({ model: TINY_CLIP, projectionHead: head });
    expect(await fromObject.embedImages(IMAGES)).toEqual(projected);
  });

  it("applies the head to the unit-length encoder output it was trained on, for images and texts", async () => {
    // Biases make a head sensitive to its input's scale (a zero-bias head is not): random ones here.
    const random = seededRandom(11);
    const biased = new ProjectionHead(
      head.shape,
      Float64Array.from(head.params, () => (random() - 0.5) * 0.4),
    );
    const withHead = new ImageEmbeddings({ model: TINY_CLIP, projectionHead: biased });
    const raw = new ImageEmbeddings({ model: TINY_CLIP, normalize: false });
    const texts = ["a red circle", "a blue square"];
    const [projected, unit, unnormalised] = await Promise.all([
      withHead.embedImages(IMAGES),
      plain.embedImages(IMAGES),
      raw.embedImages(IMAGES),
    ]);
    const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
    for (const [i, v] of projected.entries()) {
      expect(cosine(v, await biased.apply(unit[i]))).toBeGreaterThanOrEqual(0.99999);
      // The rule it replaces, the head on the raw output (norm about 11 on tiny-clip), really differs.
      expect(Math.hypot(...unnormalised[i])).toBeGreaterThan(2);
      expect(cosine(v, await biased.apply(unnormalised[i]))).toBeLessThan(0.9999);
    }
    const [projectedTexts, unitTexts] = [await withHead.embedDocuments(texts), await plain.embedDocuments(texts)];
    for (const [i, v] of projectedTexts.entries()) {
      expect(cosine(v, await biased.apply(unitTexts[i]))).toBeGreaterThanOrEqual(0.99999);
    }
    // normalize: false does not change what the head is given.
    const headNoNormalize = new ImageEmbeddings({ model: TINY_CLIP, projectionHead: biased, normalize: false });
    expect(await headNoNormalize.embedImages(IMAGES)).toEqual(projected);
    await Promise.all([withHead.dispose(), raw.dispose(), headNoNormalize.dispose()]);
  });

  it("builds, saves and reloads a store with the head, and searches it correctly", async () => {
    const embeddings = new ImageEmbeddings({ model: TINY_CLIP, projectionHead: headPath });
    const store = await ImageFaissStore.fromImages(IMAGES, embeddings);
    const index = join(dir, "index");
    await store.save(index);
    const manifest = JSON.parse(
      await readFile(join(index, (await readFile(join(index, "CURRENT"), "utf8")).trim(), "manifest.json"), "utf8"),
    );
    expect(manifest).toMatchObject({ projectionHead: head.id, headInput: "normalized", dimension: 32 });

    const loaded = await ImageFaissStore.load(
      index,
      new ImageEmbeddings({ model: TINY_CLIP, projectionHead: loadProjectionHead(headPath) }),
    );
    for (const image of IMAGES) {
      const [[doc, score]] = await loaded.similaritySearchVectorWithScore(await embeddings.embedImage(image), 1);
      expect(doc.metadata.source).toBe(image);
      expect(score).toBeCloseTo(1, 5);
    }
  });

  it("refuses to load a store with a different head, or with none", async () => {
    const index = join(dir, "index");
    const other = ProjectionHead.initialised(
      { kind: "mlp", inputDim: 64, hiddenDim: 48, outputDim: 32 },
      seededRandom(5),
    );
    await expect(
      ImageFaissStore.load(index, new ImageEmbeddings({ model: TINY_CLIP, projectionHead: other })),
    ).rejects.toThrow(
      new RegExp(`built with projection head ${head.id}, but these embeddings use projection head ${other.id}`),
    );
    await expect(ImageFaissStore.load(index, plain)).rejects.toThrow(/but these embeddings use no projection head/);
  });

  it("refuses a store whose head was applied to the raw encoder output (saved before headInput)", async () => {
    const index = join(dir, "index");
    const manifestPath = join(index, (await readFile(join(index, "CURRENT"), "utf8")).trim(), "manifest.json");
    const { headInput, ...old } = JSON.parse(await readFile(manifestPath, "utf8"));
    expect(headInput).toBe("normalized");
    await writeFile(manifestPath, JSON.stringify(old));
    try {
      await expect(
        ImageFaissStore.load(index, new ImageEmbeddings({ model: TINY_CLIP, projectionHead: headPath })),
      ).rejects.toThrow(
        new RegExp(`applied projection head ${head.id} to the raw encoder output.*unit-length.*re-index it`),
      );
    } finally {
      await writeFile(manifestPath, JSON.stringify({ ...old, headInput }));
    }
  });

  it("names a bad head file and a head that does not fit the model", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ format: "something-else" }));
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, projectionHead: bad })).toThrow(
      /bad\.json is not a projection head file/,
    );
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, projectionHead: join(dir, "missing.json") })).toThrow(
      /Cannot read the projection head .*missing\.json/,
    );
    const file = JSON.parse(await readFile(headPath, "utf8"));
    await writeFile(
      bad,
      JSON.stringify({
        ...file,
        params: Buffer.alloc(file.params.length).toString("base64").slice(0, file.params.length),
      }),
    );
    expect(() => new ImageEmbeddings({ model: TINY_CLIP, projectionHead: bad })).toThrow(/damaged/);
    const wrongSize = new ImageEmbeddings({
      model: TINY_CLIP,
      projectionHead: new ProjectionHead({ kind: "linear", inputDim: 512, outputDim: 8 }),
    });
    await expect(wrongSize.embedImage(IMAGES[0])).rejects.toThrow(
      /takes 512-d vectors, but model ".*tiny-clip" makes 64-d vectors/,
    );
  });
});
