/** Bad inputs give errors that name the input and the problem; good inputs in the same batch survive. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageBatchError, ImageEmbeddings, ImageInputError } from "../../src/index.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { renderShape } from "../helpers/shapes.js";

async function failure(promise: Promise<unknown>): Promise<ImageInputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageInputError);
  return error as ImageInputError;
}

describe("ImageEmbeddings errors", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP, batchSize: 3 });
  let png: Buffer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    png = await renderShape({ colour: "blue", shape: "circle", seed: 3 });
    ({ dir, cleanup } = await tempDir());
    server = createServer((req, res) => {
      if (req.url === "/ok.png") return res.writeHead(200, { "content-type": "image/png" }).end(png);
      if (req.url === "/page.html") return res.writeHead(200, { "content-type": "text/html" }).end("<html></html>");
      if (req.url === "/huge.png")
        return res.writeHead(200, { "content-type": "image/png" }).end(Buffer.alloc(200_000));
      if (req.url === "/slow.png") return setTimeout(() => res.writeHead(200).end(png), 2_000);
      if (req.url?.startsWith("/loop")) return res.writeHead(302, { location: `/loop${Math.random()}` }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await cleanup();
    await embeddings.dispose();
  });

  it("names a missing path", async () => {
    const error = await failure(embeddings.embedImage(join(dir, "missing.jpg")));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.input).toBe(join(dir, "missing.jpg"));
    expect(error.message).toBe(`Cannot embed image ${join(dir, "missing.jpg")}: no such file`);
  });

  it("refuses a directory, even one named like an image", async () => {
    await mkdir(join(dir, "x.jpg"));
    const error = await failure(embeddings.embedImage(join(dir, "x.jpg")));
    expect(error.code).toBe("NOT_READABLE");
    expect(error.message).toMatch(/x\.jpg: not a regular file/);
  });

  it("refuses empty, non-image, truncated and SVG bytes with the reason", async () => {
    await writeFile(join(dir, "empty.png"), "");
    await writeFile(join(dir, "page.png"), "<html><body>not an image</body></html>");
    await writeFile(join(dir, "truncated.png"), png.subarray(0, Math.floor(png.length / 2)));
    const jpeg = await sharp(png).jpeg().toBuffer();
    await writeFile(join(dir, "truncated.jpg"), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await writeFile(
      join(dir, "script.svg"),
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(1)</script></svg>',
    );

    expect((await failure(embeddings.embedImage(join(dir, "empty.png")))).message).toMatch(/empty\.png: empty file/);
    const html = await failure(embeddings.embedImage(join(dir, "page.png")));
    expect(html.code).toBe("UNSUPPORTED_FORMAT");
    expect(html.message).toMatch(/page\.png: not an image/);
    for (const name of ["truncated.png", "truncated.jpg"]) {
      const error = await failure(embeddings.embedImage(join(dir, name)));
      expect(error.code).toBe("CORRUPT_IMAGE");
      expect(error.message).toContain(name);
    }
    expect((await failure(embeddings.embedImage(join(dir, "script.svg")))).message).toMatch(/SVG is not supported/);
  });

  it("refuses an image over maxInputPixels from its header, before decoding", async () => {
    const small = new ImageEmbeddings({ model: TINY_CLIP, maxInputPixels: 100 * 100 });
    const big = await sharp({ create: { width: 200, height: 200, channels: 3, background: "red" } })
      .png()
      .toBuffer();
    const error = await failure(small.embedImage(big));
    expect(error.code).toBe("TOO_LARGE");
    expect(error.message).toMatch(/input \(Buffer, \d+ bytes\): image is larger than maxInputPixels \(10000 pixels\)/);
    expect(await small.embedImage(await sharp(big).resize(100, 100).toBuffer())).toHaveLength(
      await small.getDimension(),
    );
    await small.dispose();
  });

  it("refuses inputs of the wrong type", async () => {
    const error = await failure(embeddings.embedImage(42 as never));
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.message).toMatch(/input \(number\): unsupported input type/);
    const raw = await failure(embeddings.embedImage({ data: new Uint8Array(5), width: 2, height: 2, channels: 3 }));
    expect(raw.message).toMatch(/RawImage data has 5 bytes but 2x2x3 needs 12/);
  });

  it("names each bad input of a batch by its index and type, and rejects with all of them", async () => {
    const inputs = [png, Buffer.from("junk"), png, join(dir, "missing.jpg"), png];
    const error = await embeddings.embedImages(inputs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageBatchError);
    const batch = error as ImageBatchError;
    expect(batch.failures.map((f) => f.index)).toEqual([1, 3]);
    expect(batch.message).toContain("2 of 5 images could not be embedded");
    expect(batch.message).toContain("inputs[1] (Buffer, 4 bytes): not an image");
    expect(batch.message).toContain(`${join(dir, "missing.jpg")}: no such file`);
  });

  it("keeps the good vectors in embedImagesSettled, in input order", async () => {
    const good = await embeddings.embedImage(png);
    const results = await embeddings.embedImagesSettled([png, "", png, Buffer.alloc(0), png, png, Buffer.from("x")]);
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(results.map((r) => (r.error ? r.error.code : "ok"))).toEqual([
      "ok",
      "INVALID_INPUT",
      "ok",
      "UNSUPPORTED_FORMAT",
      "ok",
      "ok",
      "UNSUPPORTED_FORMAT",
    ]);
    for (const r of results.filter((r) => !r.error)) expect(r.embedding).toEqual(good);
  });

  it("stops at the first bad input with failFast", async () => {
    const settled = await embeddings.embedImagesSettled([png, png, Buffer.from("bad"), png, png, png], {
      failFast: true,
    });
    expect(settled.map((r) => (r.error ? "error" : "ok"))).toEqual(["ok", "ok", "error"]);
    const error = await embeddings
      .embedImages([png, Buffer.from("bad"), Buffer.from("worse")], { failFast: true })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ImageInputError);
    expect(error.index).toBe(1);
  });

  describe("remote URLs", () => {
    it("downloads an image", async () => {
      expect(await embeddings.embedImage(`${url}/ok.png`)).toEqual(await embeddings.embedImage(png));
    });

    it("refuses them when allowRemote is false", async () => {
      const offline = new ImageEmbeddings({ model: TINY_CLIP, allowRemote: false });
      const error = await failure(offline.embedImage(`${url}/ok.png`));
      expect(error.code).toBe("FETCH_FAILED");
      expect(error.message).toBe(`Cannot embed image ${url}/ok.png: remote URLs are disabled (allowRemote: false)`);
    });

    it("names HTTP errors, wrong content types, size, timeouts and redirect loops", async () => {
      const strict = new ImageEmbeddings({
        model: TINY_CLIP,
        fetchTimeoutMs: 300,
        maxDownloadBytes: 100_000,
        maxRedirects: 3,
      });
      expect((await failure(strict.embedImage(`${url}/nope.png`))).message).toMatch(/nope\.png: HTTP 404/);
      expect((await failure(strict.embedImage(`${url}/page.html`))).message).toMatch(
        /content-type "text\/html" is not an image/,
      );
      expect((await failure(strict.embedImage(`${url}/huge.png`))).message).toMatch(
        /exceeds maxDownloadBytes \(100000\)/,
      );
      expect((await failure(strict.embedImage(`${url}/slow.png`))).message).toMatch(/timed out after 300 ms/);
      expect((await failure(strict.embedImage(`${url}/loop`))).message).toMatch(/more than 3 redirects/);
    });
  });
});
