/** imageContentBlocks: retrieved Documents to standard chat content blocks. */
import { Document } from "@langchain/core/documents";
import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { imageContentBlocks } from "../../src/index.js";

const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
const withImage = new Document({
  pageContent: "shapes/a.png",
  metadata: { source: "shapes/a.png", score: 0.31234, imageDataUri: `data:image/png;base64,${png.toString("base64")}` },
});

describe("imageContentBlocks", () => {
  it("writes a caption then a base64 image block per document", () => {
    const blocks = imageContentBlocks([
      withImage,
      new Document({ pageContent: "b.jpg", metadata: { imageDataUri: "data:image/jpeg;base64,/9j/" } }),
    ]);
    expect(blocks).toEqual([
      { type: "text", text: "[1] shapes/a.png (score 0.312)" },
      { type: "image", mimeType: "image/png", data: png.toString("base64") },
      { type: "text", text: "[2] b.jpg" },
      { type: "image", mimeType: "image/jpeg", data: "/9j/" },
    ]);
  });

  it("says why an image is missing instead of dropping it", () => {
    const unreadable = new Document({
      pageContent: "gone.png",
      metadata: { source: "gone.png", imageDataError: "ENOENT: no such file" },
    });
    const plain = new Document({ pageContent: "c.png", metadata: { source: "c.png" } });
    expect(
      imageContentBlocks([unreadable, plain])
        .filter((b) => b.type === "text")
        .map((b) => (b as { text: string }).text),
    ).toEqual([
      "[1] gone.png",
      "(image 1 not attached: ENOENT: no such file)",
      "[2] c.png",
      "(image 2 not attached: no metadata.imageDataUri (use a retriever with includeImageData: true))",
    ]);
  });

  it("takes a custom caption, and an empty caption leaves the text block out", () => {
    expect(imageContentBlocks([withImage], { caption: (doc, i) => `#${i} ${doc.metadata.source}` })[0]).toEqual({
      type: "text",
      text: "#0 shapes/a.png",
    });
    expect(imageContentBlocks([withImage], { caption: () => "" }).map((b) => b.type)).toEqual(["image"]);
  });

  it("gives blocks a HumanMessage keeps as standard image content", () => {
    const message = new HumanMessage({
      contentBlocks: [{ type: "text", text: "What is this?" }, ...imageContentBlocks([withImage])],
    });
    expect(message.contentBlocks.map((b) => b.type)).toEqual(["text", "text", "image"]);
    expect(message.contentBlocks[2]).toMatchObject({
      type: "image",
      mimeType: "image/png",
      data: png.toString("base64"),
    });
  });
});
