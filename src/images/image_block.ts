/**
 * Image content blocks from chat messages as image inputs: LangChain's standard block
 * (`ContentBlock.Multimodal.Image`, what `message.contentBlocks` gives) and the
 * OpenAI-style `image_url` block that many messages still carry in `content`.
 *
 * A block came from a chat user, so only what a chat model could also see is read from
 * it: an http(s) URL (through the remote fetch, with its limits and `allowRemote`), a
 * data URI, or base64 / binary `data`. A block never names a local file.
 */
import type { ContentBlock } from "@langchain/core/messages";

/** The OpenAI chat format's image part: `{ type: "image_url", image_url: { url } }` or `image_url: url`. */
export interface ImageUrlContentBlock {
  type: "image_url";
  image_url: string | { url: string; detail?: string };
}

/** A chat message's image, as either block kind. */
export type ImageContentBlock = ContentBlock.Multimodal.Image | ImageUrlContentBlock;

/** What a block points at, once read: a URL (http(s) or data:) or the bytes themselves. */
export type ImageBlockSource = { url: string; bytes?: undefined } | { bytes: Buffer; url?: undefined };

/** True for an object that is an image content block of either kind (not yet checked for a usable payload). */
export function isImageContentBlock(value: unknown): value is ImageContentBlock {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === "image" || type === "image_url";
}

/** A short name for a block in error messages: its kind and what it carries, never the payload. */
export function describeImageBlock(block: ImageContentBlock): string {
  if (block.type === "image_url") {
    const url = typeof block.image_url === "string" ? block.image_url : block.image_url?.url;
    return `image_url block, ${describeUrl(url)}`;
  }
  if (typeof block.url === "string") return `image block, ${describeUrl(block.url)}`;
  if (typeof block.fileId === "string") return `image block, fileId ${block.fileId}`;
  const data = block.data as unknown;
  const size =
    typeof data === "string" ? `${data.length} base64 chars` : data instanceof Uint8Array ? `${data.length} bytes` : "";
  return `image block, ${[block.mimeType, size].filter(Boolean).join(" ") || "no data"}`;
}

/**
 * The URL or bytes a block carries. Throws a plain `Error` with the reason (the caller
 * wraps it into an `ImageInputError` naming the block).
 */
export function imageBlockSource(block: ImageContentBlock): ImageBlockSource {
  if (block.type === "image_url") {
    const url = typeof block.image_url === "string" ? block.image_url : block.image_url?.url;
    if (typeof url !== "string") throw new Error("image_url block without a url string (expected image_url.url)");
    return { url: checkBlockUrl(url) };
  }
  const url = block.url as unknown;
  if (url !== undefined) {
    if (typeof url !== "string") throw new Error(`expected a string for url but received ${typeof url}`);
    return { url: checkBlockUrl(url) };
  }
  if (block.fileId !== undefined) {
    throw new Error(
      "a fileId names a file stored with a model provider, which cannot be read here; send the image as url or base64 data",
    );
  }
  const data = block.data as unknown;
  if (typeof data === "string") {
    if (data.startsWith("data:")) return { url: data };
    // Standard or URL-safe alphabet, as Buffer decodes both; anything else would decode to garbage silently.
    if (!/^[A-Za-z0-9+/\-_\s]+={0,2}\s*$/.test(data)) throw new Error("data is not base64");
    return { bytes: Buffer.from(data, "base64") };
  }
  if (data instanceof Uint8Array) return { bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
  throw new Error("image block without url, data or fileId");
}

/** Only what a chat model could also fetch: http(s) and data URIs. A path or file: URL would read this machine's files. */
function checkBlockUrl(url: string): string {
  if (/^(https?:\/\/|data:)/i.test(url)) return url;
  throw new Error(`unsupported url ${describeUrl(url)} in an image block: expected http(s) or a data URI`);
}

function describeUrl(url: unknown): string {
  if (typeof url !== "string") return "no url";
  if (url.startsWith("data:")) return `data URI, ${url.length} chars`;
  return url.length > 200 ? `url of ${url.length} chars` : url;
}

/** Anything with LangChain's `contentBlocks` (every `BaseMessage`). */
interface WithContentBlocks {
  contentBlocks: readonly unknown[];
}

/**
 * The image blocks of chat messages, in order: what a user sent, ready to embed or to
 * search with. Reads each message's `contentBlocks`, where LangChain has already turned
 * provider formats (OpenAI `image_url` with a data URI, ...) into standard blocks; an
 * `image_url` block it left as is is kept too. Pass only the messages whose images you
 * mean, e.g. `messages.filter(HumanMessage.isInstance)` for the user's.
 *
 * @example
 * ```typescript
 * const message = new HumanMessage({ contentBlocks: [
 *   { type: "text", text: "More like this" },
 *   { type: "image", mimeType: "image/png", data: pngBase64 },
 * ] });
 * const docs = await retriever.invoke(imageBlocksOf(message)[0]);
 * ```
 */
export function imageBlocksOf(messages: WithContentBlocks | readonly WithContentBlocks[]): ImageContentBlock[] {
  const list = Array.isArray(messages) ? messages : [messages as WithContentBlocks];
  return list.flatMap((message, i) => {
    const blocks = (message as Partial<WithContentBlocks> | null)?.contentBlocks;
    if (!Array.isArray(blocks)) {
      throw new TypeError(
        `Expected a chat message with contentBlocks for messages[${i}] but received ${typeof message}`,
      );
    }
    return blocks.filter(isImageContentBlock);
  });
}
