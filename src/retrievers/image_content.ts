/**
 * Turns retrieved image Documents into chat message content: one text block naming each
 * result, followed by its image as a LangChain standard image block. Chat model
 * integrations translate standard blocks into their provider's format (OpenAI
 * `image_url`, Anthropic `image` sources, ...), so a RAG chain can hand what the
 * retriever found straight to a multimodal model.
 */
import type { ContentBlock } from "@langchain/core/messages";
import type { DocumentInterface } from "@langchain/core/documents";

export interface ImageContentOptions {
  /**
   * The text block written before each image. Default: `"[n] <source> (score 0.312)"`.
   * Return an empty string for no caption.
   */
  caption?: (doc: DocumentInterface, index: number) => string;
}

const DATA_URI = /^data:([^;,]+);base64,(.*)$/s;

/**
 * Content blocks for `docs`, which must carry `metadata.imageDataUri` (a
 * `MultimodalRetriever` with `includeImageData: true` attaches it). A document without
 * one, e.g. because its file could not be read, gets a text block saying why instead
 * of an image, so the model is told rather than silently shown fewer images.
 *
 * @example
 * ```typescript
 * const retriever = new MultimodalRetriever({ vectorStore: store, k: 3, includeImageData: true });
 * const docs = await retriever.invoke("a red circle");
 * const message = new HumanMessage({
 *   contentBlocks: [{ type: "text", text: "Describe these images." }, ...imageContentBlocks(docs)],
 * });
 * ```
 */
export function imageContentBlocks(
  docs: DocumentInterface[],
  options: ImageContentOptions = {},
): ContentBlock.Standard[] {
  const caption = options.caption ?? defaultCaption;
  const blocks: ContentBlock.Standard[] = [];
  docs.forEach((doc, index) => {
    const text = caption(doc, index);
    if (text) blocks.push({ type: "text", text });
    const uri = doc.metadata?.imageDataUri;
    const match = typeof uri === "string" ? DATA_URI.exec(uri) : null;
    if (match) {
      blocks.push({ type: "image", mimeType: match[1], data: match[2] });
    } else {
      const why =
        doc.metadata?.imageDataError ?? "no metadata.imageDataUri (use a retriever with includeImageData: true)";
      blocks.push({ type: "text", text: `(image ${index + 1} not attached: ${why})` });
    }
  });
  return blocks;
}

function defaultCaption(doc: DocumentInterface, index: number): string {
  const source = doc.metadata?.source ?? doc.pageContent;
  const score = doc.metadata?.score;
  return `[${index + 1}] ${source}${typeof score === "number" ? ` (score ${score.toFixed(3)})` : ""}`;
}
