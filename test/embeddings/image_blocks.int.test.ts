/**
 * Image content blocks from real chat messages as ImageEmbeddings inputs: every form a
 * HumanMessage carries gives the same vector as the bytes, and the forms a chat user must
 * not be able to use (local paths, file: URLs, provider file ids) are refused by name.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HumanMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, ImageInputError, imageBlocksOf, type ImageContentBlock } from "../../src/index.js";
import { TINY_CLIP } from "../helpers/fixtures.js";
import { renderShape } from "../helpers/shapes.js";

describe("ImageEmbeddings with image content blocks", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  let png: Buffer;
  let server: Server;
  let baseUrl: string;
  let reference: number[];

  beforeAll(async () => {
    png = await renderShape({ colour: "blue", shape: "star", seed: 11, width: 180, height: 150 });
    server = createServer((req, res) => {
      if (req.url !== "/star.png") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "image/png", "content-length": png.length });
      res.end(png);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    reference = await embeddings.embedImage(png);
  });

  afterAll(async () => {
    server?.close();
    await embeddings.dispose();
  });

  const dataUri = () => `data:image/png;base64,${png.toString("base64")}`;
  /** The image blocks of one real HumanMessage built from `content`, as an app receives it. */
  const blocksOf = (content: ConstructorParameters<typeof HumanMessage>[0]) => imageBlocksOf(new HumanMessage(content));

  it("reads every image block a HumanMessage carries to the same vector as the bytes", async () => {
    const blocks = [
      ...blocksOf({
        contentBlocks: [
          { type: "text", text: "like these" },
          { type: "image", mimeType: "image/png", data: png.toString("base64") },
          { type: "image", url: `${baseUrl}/star.png` },
          { type: "image", url: dataUri() },
        ],
      }),
      // OpenAI-style parts: LangChain turns a data URI into a standard block, leaves a string image_url as is.
      ...blocksOf({ content: [{ type: "image_url", image_url: { url: dataUri() } }] }),
      ...blocksOf({ content: [{ type: "image_url", image_url: `${baseUrl}/star.png` }] }),
    ];
    expect(blocks.map((b) => [b.type, "url" in b ? "url" : "data" in b ? "data" : "image_url"])).toEqual([
      ["image", "data"],
      ["image", "url"],
      ["image", "url"],
      ["image", "data"],
      ["image_url", "image_url"],
    ]);
    const results = await embeddings.embedImagesSettled([
      ...blocks,
      { type: "image", mimeType: "image/png", data: png },
    ]);
    for (const result of results) {
      expect(result.error).toBeUndefined();
      expect(Math.max(...result.embedding!.map((x, i) => Math.abs(x - reference[i])))).toBeLessThanOrEqual(1e-6);
    }
    // Downloads keep their URL as the source; inline data has none. The hash is the bytes' either way.
    expect(results.map((r) => r.image!.source)).toEqual([
      undefined,
      `${baseUrl}/star.png`,
      undefined,
      undefined,
      `${baseUrl}/star.png`,
      undefined,
    ]);
    expect(new Set(results.map((r) => r.image!.contentHash)).size).toBe(1);
  });

  it("refuses local paths, file: URLs and provider file ids, naming the block", async () => {
    const bad: [ImageContentBlock, string][] = [
      [
        { type: "image", url: "/etc/passwd" },
        "Cannot embed image input (image block, /etc/passwd): unsupported url /etc/passwd in an image block: expected http(s) or a data URI",
      ],
      [
        { type: "image_url", image_url: { url: "file:///etc/hosts" } },
        "Cannot embed image input (image_url block, file:///etc/hosts): unsupported url file:///etc/hosts in an image block: expected http(s) or a data URI",
      ],
      [
        { type: "image", fileId: "file-abc123" },
        "Cannot embed image input (image block, fileId file-abc123): a fileId names a file stored with a model provider, which cannot be read here; send the image as url or base64 data",
      ],
      [
        { type: "image", mimeType: "image/png", data: "%%% not base64 %%%" },
        "Cannot embed image input (image block, image/png 18 base64 chars): data is not base64",
      ],
    ];
    for (const [block, message] of bad) {
      const error = await embeddings.embedImage(block).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImageInputError);
      expect((error as ImageInputError).code).toBe("INVALID_INPUT");
      expect((error as Error).message).toBe(message);
    }
  });

  it("fetches URL blocks through the remote path, with its errors and allowRemote", async () => {
    const [, missing] = await embeddings.embedImagesSettled([
      { type: "image", url: `${baseUrl}/star.png` },
      { type: "image", url: `${baseUrl}/gone.png` },
    ]);
    expect(missing.error?.message).toBe(
      `Cannot embed image inputs[1] (image block, ${baseUrl}/gone.png): HTTP 404 Not Found`,
    );
    expect(missing.error?.code).toBe("FETCH_FAILED");

    const local = new ImageEmbeddings({ model: TINY_CLIP, allowRemote: false });
    try {
      await expect(local.embedImage({ type: "image", url: `${baseUrl}/star.png` })).rejects.toThrow(
        "remote URLs are disabled (allowRemote: false)",
      );
      // Inline data needs no download, so it still works.
      const vector = await local.embedImage({ type: "image", url: dataUri() });
      expect(Math.max(...vector.map((x, i) => Math.abs(x - reference[i])))).toBeLessThanOrEqual(1e-6);
    } finally {
      await local.dispose();
    }
  });

  it("imageBlocksOf keeps message order and refuses what is not a message", () => {
    const messages = [
      new HumanMessage({ contentBlocks: [{ type: "image", url: "https://example.com/a.png" }] }),
      new HumanMessage("no images here"),
      new HumanMessage({
        contentBlocks: [
          { type: "image", url: "https://example.com/b.png" },
          { type: "text", text: "and" },
          { type: "image", url: "https://example.com/c.png" },
        ],
      }),
    ];
    expect(imageBlocksOf(messages).map((b) => (b as { url: string }).url)).toEqual([
      "https://example.com/a.png",
      "https://example.com/b.png",
      "https://example.com/c.png",
    ]);
    expect(() => imageBlocksOf([{} as never])).toThrow(
      "Expected a chat message with contentBlocks for messages[0] but received object",
    );
  });
});
