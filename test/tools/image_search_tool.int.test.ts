/** createImageSearchTool over the real tiny-clip model: schema, output, artifacts and errors. */
import { readFile } from "node:fs/promises";
import { HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageEmbeddings, imageBlocksOf } from "../../src/index.js";
import { MultimodalRetriever } from "../../src/retrievers/multimodal_retriever.js";
import {
  DEFAULT_IMAGE_SEARCH_DESCRIPTION,
  createImageSearchTool,
  type ImageSearchToolResult,
} from "../../src/tools/image_search_tool.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { type GalleryImage, type IndexedGallery, indexGallery, writeGallery } from "../retrievers/gallery.js";

describe("createImageSearchTool", () => {
  const embeddings = new ImageEmbeddings({ model: TINY_CLIP });
  let cleanup: () => Promise<void>;
  let gallery: GalleryImage[];
  let indexed: IndexedGallery;
  let retriever: MultimodalRetriever;

  beforeAll(async () => {
    const tmp = await tempDir("lie-tool-");
    cleanup = tmp.cleanup;
    gallery = await writeGallery(tmp.dir, 3, 70_000);
    indexed = await indexGallery(embeddings, gallery);
    // Give one document a big metadata value, which the tool's output must leave out.
    indexed.docs[0].metadata.notes = "x".repeat(500);
    retriever = new MultimodalRetriever({ vectorStore: indexed.store, k: 3 });
  });
  afterAll(async () => {
    await cleanup?.();
    await embeddings.dispose();
  });

  const run = async (tool: ReturnType<typeof createImageSearchTool>, args: Record<string, unknown>) =>
    JSON.parse((await tool.invoke(args as never)) as unknown as string) as ImageSearchToolResult[] & { error?: string };

  it("has a name, a description and a JSON schema with query, k and imagePath", () => {
    const tool = createImageSearchTool(retriever);
    expect(tool.name).toBe("image_search");
    expect(tool.description).toBe(DEFAULT_IMAGE_SEARCH_DESCRIPTION);
    const schema = toJsonSchema(tool.schema) as {
      properties: Record<string, { type: string; minimum?: number; maximum?: number }>;
      required: string[];
    };
    expect(Object.keys(schema.properties).sort()).toEqual(["imagePath", "k", "query"]);
    expect(schema.required).toEqual(["query"]);
    expect(schema.properties.query.type).toBe("string");
    expect(schema.properties.k).toMatchObject({ type: "integer", minimum: 1, maximum: 20 });
    expect(schema.properties.imagePath.type).toBe("string");

    const named = createImageSearchTool(retriever, { name: "find_shapes", description: "Find shapes.", maxK: 5 });
    expect([named.name, named.description]).toEqual(["find_shapes", "Find shapes."]);
    expect((toJsonSchema(named.schema) as { properties: { k: { maximum: number } } }).properties.k.maximum).toBe(5);
  });

  it("returns compact JSON: rank, rounded score, source and small metadata", async () => {
    const tool = createImageSearchTool(retriever);
    const results = await run(tool, { query: "green square" });
    expect(results).toHaveLength(3);
    expect(results.map((r) => r.rank)).toEqual([1, 2, 3]);
    for (const r of results) {
      expect(Object.keys(r).sort()).toEqual(["id", "metadata", "rank", "score", "source"]);
      expect(r.score).toBe(Math.round(r.score * 1e4) / 1e4);
      expect(r.metadata).toMatchObject({ label: "green square", width: 256, height: 256 });
      expect(r.metadata).not.toHaveProperty("score");
      expect(r.metadata).not.toHaveProperty("source");
    }
    expect(results[0].source).toMatch(/green-square-\d\.png$/);
    expect(results[0].score).toBeGreaterThanOrEqual(results[2].score);
  });

  it("leaves big metadata values and image data out of the JSON", async () => {
    const withData = createImageSearchTool(retriever.withSearchOptions({ includeImageData: true, k: 24 * 3 }), {
      maxK: 100,
    });
    const content = (await withData.invoke({ query: "red circle" })) as unknown as string;
    expect(content).not.toContain("data:image");
    expect(content).not.toContain("xxxxxxxxxx");
    expect(JSON.parse(content)).toHaveLength(72);
  });

  it("applies k within 1..maxK and rejects other values", async () => {
    const tool = createImageSearchTool(retriever, { maxK: 5 });
    expect(await run(tool, { query: "blue star", k: 5 })).toHaveLength(5);
    expect(await run(tool, { query: "blue star", k: 1 })).toHaveLength(1);
    await expect(tool.invoke({ query: "blue star", k: 6 })).rejects.toThrow(/did not match expected schema/);
    await expect(tool.invoke({ query: "blue star", k: 0 })).rejects.toThrow(/did not match expected schema/);
    await expect(tool.invoke({ k: 2 } as never)).rejects.toThrow(/did not match expected schema/);
  });

  it("raises fetchK to k for an MMR retriever", async () => {
    const mmr = new MultimodalRetriever({ vectorStore: indexed.store, searchType: "mmr", fetchK: 4, k: 2 });
    expect(await run(createImageSearchTool(mmr), { query: "blue star", k: 10 })).toHaveLength(10);
  });

  it("searches by imagePath, alone or with a query added", async () => {
    const tool = createImageSearchTool(retriever);
    const query = gallery.find((g) => g.label === "yellow triangle")!;
    const alike = await run(tool, { query: "", imagePath: query.path });
    expect(alike.map((r) => r.metadata.label)).toEqual(["yellow triangle", "yellow triangle", expect.any(String)]);
    expect(alike.map((r) => r.source)).not.toContain(query.path);
    const shifted = await run(tool, { query: "- yellow + purple", imagePath: query.path });
    expect(shifted[0].metadata.label).toBe("purple triangle");
  });

  it("reports malformed queries and unreadable images as JSON errors the model can act on", async () => {
    const tool = createImageSearchTool(retriever);
    expect((await run(tool, { query: "red +" })).error).toMatch(
      /^Malformed query "red \+": expected a term after "\+"/,
    );
    expect((await run(tool, { query: "   " })).error).toBe("Empty query: give a query, an imagePath, or both");
    expect((await run(tool, { query: "", imagePath: "/no/such/image.png" })).error).toBe(
      "Cannot embed image /no/such/image.png: no such file",
    );
  });

  it("gives the full Documents as the ToolMessage artifact when called with a tool call", async () => {
    const tool = createImageSearchTool(retriever.withSearchOptions({ includeImageData: true }));
    const message = await tool.invoke({
      type: "tool_call",
      id: "call_1",
      name: "image_search",
      args: { query: "orange circle", k: 2 },
    });
    expect(message).toBeInstanceOf(ToolMessage);
    expect(message.tool_call_id).toBe("call_1");
    const content = JSON.parse(message.content as string) as ImageSearchToolResult[];
    expect(content).toHaveLength(2);
    expect(message.artifact).toHaveLength(2);
    expect(message.artifact[0].metadata.imageDataUri).toMatch(/^data:image\/png;base64,/);
    expect(message.artifact.map((d: { metadata: { source: string } }) => d.metadata.source)).toEqual(
      content.map((r) => r.source),
    );
  });

  it("searches with an image the user sent in the conversation (userImage), read through the call's config", async () => {
    const sent = gallery[4];
    const conversation: BaseMessage[] = [
      new HumanMessage({
        contentBlocks: [
          { type: "text", text: "Find images like this one" },
          { type: "image", mimeType: "image/png", data: (await readFile(sent.path)).toString("base64") },
        ],
      }),
    ];
    const tool = createImageSearchTool(retriever, {
      userImages: (config) => imageBlocksOf((config.configurable?.messages as BaseMessage[] | undefined) ?? []),
    });
    const schema = toJsonSchema(tool.schema) as { properties: Record<string, { type: string; minimum?: number }> };
    expect(Object.keys(schema.properties).sort()).toEqual(["imagePath", "k", "query", "userImage"]);
    expect(schema.properties.userImage).toMatchObject({ type: "integer", minimum: 1 });

    const config = { configurable: { messages: conversation } };
    const results = JSON.parse(
      (await tool.invoke({ query: "", userImage: 1, k: 2 }, config)) as unknown as string,
    ) as ImageSearchToolResult[];
    // The sent image is in the store: it is left out, and its class-mates come first.
    expect(results.map((r) => r.source)).not.toContain(sent.path);
    expect(results.map((r) => r.metadata.label)).toEqual([sent.label, sent.label]);

    const missing = JSON.parse((await tool.invoke({ query: "", userImage: 2 }, config)) as unknown as string);
    expect(missing).toEqual({ error: "userImage 2 does not exist: the user sent 1 image in this conversation" });
  });

  it("validates its options", () => {
    expect(() => createImageSearchTool(retriever, { userImages: [] as never })).toThrow(
      "Expected a function for userImages but received object",
    );
    expect(() => createImageSearchTool(retriever, { maxK: 0 })).toThrow(
      "Expected positive integer for maxK but received 0",
    );
    expect(() => createImageSearchTool(retriever, { name: "image search" })).toThrow(
      'Expected a tool name of 1 to 64 letters, digits, _ or - but received "image search"',
    );
  });
});
