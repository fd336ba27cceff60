/** The same image through every supported input type gives the same vector. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { RawImage } from "@huggingface/transformers";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, cosineSimilarity } from "../../src/index.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { renderShape } from "../helpers/shapes.js";

describe("ImageEmbeddings input types", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  let png: Buffer;
  let path: string;
  let server: Server;
  let baseUrl: string;
  let reference: number[];
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    png = await renderShape({ colour: "green", shape: "triangle", seed: 7, width: 200, height: 160 });
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    path = join(tmp.dir, "green triangle ünïcode.png");
    await writeFile(path, png);
    server = createServer((req, res) => {
      res.writeHead(200, { "content-type": "image/png", "content-length": png.length });
      res.end(png);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    reference = await embeddings.embedImage(png);
  });

  afterAll(async () => {
    server?.close();
    await cleanup?.();
    await embeddings.dispose();
  });

  const base64 = () => png.toString("base64");
  const cases: [string, () => unknown | Promise<unknown>][] = [
    ["file path", () => path],
    ["file: URL string", () => pathToFileURL(path).href],
    ["file: URL object", () => pathToFileURL(path)],
    ["http URL string", () => `${baseUrl}/image.png`],
    ["http URL object", () => new URL(`${baseUrl}/image.png`)],
    ["Buffer", () => png],
    [
      "Uint8Array (a view into a larger buffer)",
      () => {
        const big = new Uint8Array(png.length + 10);
        big.set(png, 5);
        return big.subarray(5, 5 + png.length);
      },
    ],
    ["ArrayBuffer", () => png.buffer.slice(png.byteOffset, png.byteOffset + png.length)],
    ["data URI", () => `data:image/png;base64,${base64()}`],
    ["bare base64", () => base64()],
    ["Blob", () => new Blob([new Uint8Array(png)], { type: "image/png" })],
    ["transformers.js RawImage", () => RawImage.read(path)],
    [
      "plain raw pixels object",
      async () => {
        const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
        return { data, width: info.width, height: info.height, channels: info.channels };
      },
    ],
  ];

  for (const [name, make] of cases) {
    it(`accepts a ${name}`, async () => {
      const input = (await make()) as Parameters<ImageEmbeddings["embedImage"]>[0];
      const vector = await embeddings.embedImage(input);
      expect(vector).toHaveLength(reference.length);
      // Encoded inputs decode to the same pixels; raw pixels skip only the PNG codec, which is lossless.
      const diff = Math.max(...vector.map((x, i) => Math.abs(x - reference[i])));
      expect(diff).toBeLessThanOrEqual(1e-6);
    });
  }

  it("reports the source path or URL and the content hash of file inputs", async () => {
    const [fromPath, fromUrl, fromBytes] = await embeddings.embedImagesSettled([path, `${baseUrl}/x.png`, png]);
    expect(fromPath.image?.source).toBe(path);
    expect(fromUrl.image?.source).toBe(`${baseUrl}/x.png`);
    expect(fromBytes.image?.source).toBeUndefined();
    expect(fromPath.image?.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(fromPath.image?.contentHash).toBe(fromBytes.image?.contentHash);
    expect(fromPath.image).toMatchObject({ width: 200, height: 160, format: "png" });
    expect(cosineSimilarity(fromPath.embedding!, fromUrl.embedding!)).toBeGreaterThan(0.999999);
  });
});
