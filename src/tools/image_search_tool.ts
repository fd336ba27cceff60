/**
 * An agent tool over a `MultimodalRetriever`: the model sends a text query (with the
 * query arithmetic syntax) and optionally an image path, or points at an image the user
 * sent in the conversation, and gets back a compact JSON list of the best images.
 */
import type { DocumentInterface } from "@langchain/core/documents";
import type { RunnableConfig } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { z } from "zod/v4";
import { ImageInputError } from "../errors.js";
import type { ImageInput } from "../images/image_input.js";
import type { MultimodalRetriever } from "../retrievers/multimodal_retriever.js";
import { QueryError, parseQueryString, type MultimodalQuery, type QueryTerm } from "../retrievers/query.js";

export interface ImageSearchToolOptions {
  /** The tool name the model sees. Default: `"image_search"`. */
  name?: string;
  /** What the model is told the tool does. Default: a description of the image collection search and its query syntax. */
  description?: string;
  /** The largest `k` the model may ask for. Default: `20`. */
  maxK?: number;
  /**
   * The images the user sent in this conversation, e.g. `imageBlocksOf(messages)` over the
   * chat's messages. When given, the tool takes a `userImage` argument (1 = the first of
   * these images), so the model can search with an image it was shown without copying its
   * bytes into a tool call. Called once per tool call with the call's config, so an app
   * can read the current conversation from it. Default: none (no `userImage` argument).
   */
  userImages?: (config: RunnableConfig) => ImageInput[] | Promise<ImageInput[]>;
}

/** One result in the tool's JSON output. */
export interface ImageSearchToolResult {
  rank: number;
  /** Cosine similarity to the query, rounded to 4 decimals. */
  score: number;
  source?: string;
  id?: string;
  /** The document's metadata without `score`, `source`, `imageDataUri` and any value over 200 characters. */
  metadata: Record<string, unknown>;
}

export const DEFAULT_IMAGE_SEARCH_DESCRIPTION =
  'Search an image collection by meaning. `query` describes what to find, e.g. "a red circle"; ' +
  'it can add and subtract concepts with spaced + and -, e.g. "red circle - red + blue", ' +
  'and weight them, e.g. "beach + 0.5*sunset". Give `imagePath` to find images like that image ' +
  "(the query, if not empty, is added to it). Returns JSON: a list of {rank, score, source, metadata}, best first.";

/** Values longer than this (as JSON) are left out of the output's metadata. */
const MAX_VALUE_CHARS = 200;

/**
 * Wraps `retriever` as a LangChain structured tool. Arguments: `query` (string),
 * optional `k` (1 to `maxK`, default the retriever's `k`), optional `imagePath`, and,
 * with the `userImages` option, optional `userImage`: the n-th image the user sent, so a
 * chat agent can search with a pasted photo (its bytes never pass through the model).
 *
 * The tool's content is a JSON string of `ImageSearchToolResult[]`. When invoked with a
 * tool call, the resulting `ToolMessage` also carries the full result Documents as its
 * `artifact` (with `imageDataUri` when the retriever has `includeImageData`), for code
 * that wants to show the images without sending their bytes to the model.
 * A malformed query or an unreadable image is reported as `{"error": "..."}` so the model
 * can correct itself; other failures throw.
 *
 * For an MMR retriever, a `k` above its `fetchK` raises `fetchK` to `k` for that call.
 *
 * @example
 * ```typescript
 * const search = createImageSearchTool(new MultimodalRetriever({ vectorStore: store }));
 * console.log(await search.invoke({ query: "red circle - red + blue", k: 2 }));
 * // [{"rank":1,"score":0.3112,"source":"shapes/blue-circle-1.png","metadata":{"width":256,"height":256}},...]
 * ```
 */
export function createImageSearchTool(retriever: MultimodalRetriever, options: ImageSearchToolOptions = {}) {
  const maxK = options.maxK ?? 20;
  if (!Number.isInteger(maxK) || maxK <= 0) {
    throw new TypeError(`Expected positive integer for maxK but received ${String(maxK)} of type ${typeof maxK}`);
  }
  const name = options.name ?? "image_search";
  if (typeof name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw new TypeError(`Expected a tool name of 1 to 64 letters, digits, _ or - but received ${JSON.stringify(name)}`);
  }
  const schema = z.object({
    query: z
      .string()
      .describe(
        'What to look for, e.g. "a red circle" or "red circle - red + blue". May be empty when imagePath is given.',
      ),
    k: z
      .number()
      .int()
      .min(1)
      .max(maxK)
      .optional()
      .describe(`How many images to return (1 to ${maxK}). Default: ${retriever.k}.`),
    imagePath: z.string().optional().describe("Path or URL of an image to find similar images to."),
    userImage: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Find images like the n-th image the user sent in this conversation (1 = the first)."),
  });
  const userImages = options.userImages;
  if (userImages !== undefined && typeof userImages !== "function") {
    throw new TypeError(`Expected a function for userImages but received ${typeof userImages}`);
  }

  return tool(
    async ({ query, k, imagePath, userImage }, config): Promise<[string, DocumentInterface[]]> => {
      let request: MultimodalQuery;
      try {
        const sent = userImage === undefined ? undefined : await pickUserImage(userImages, userImage, config);
        request = buildQuery(query, imagePath, sent);
      } catch (error) {
        if (error instanceof QueryError) return [JSON.stringify({ error: error.message }), []];
        throw error;
      }
      const search =
        k === undefined
          ? retriever
          : retriever.withSearchOptions(
              retriever.searchType === "mmr" ? { k, fetchK: Math.max(k, retriever.fetchK) } : { k },
            );
      let docs: DocumentInterface[];
      try {
        docs = await search.invoke(request, config);
      } catch (error) {
        if (error instanceof QueryError || error instanceof ImageInputError) {
          return [JSON.stringify({ error: error.message }), []];
        }
        throw error;
      }
      return [JSON.stringify(docs.map(toResult)), docs];
    },
    {
      name,
      description: options.description ?? DEFAULT_IMAGE_SEARCH_DESCRIPTION,
      // Without userImages the model is not offered an argument that could never work.
      schema: userImages ? schema : (schema.omit({ userImage: true }) as unknown as typeof schema),
      responseFormat: "content_and_artifact",
    },
  );
}

/** The n-th (1-based) of the conversation's images; a QueryError the model can read when there is none. */
async function pickUserImage(
  userImages: ImageSearchToolOptions["userImages"],
  n: number,
  config: RunnableConfig,
): Promise<ImageInput> {
  const images = userImages ? await userImages(config) : [];
  if (!Array.isArray(images) || n > images.length) {
    const count = Array.isArray(images) ? images.length : 0;
    throw new QueryError(
      `userImage ${n} does not exist: the user sent ${count} image${count === 1 ? "" : "s"} in this conversation`,
    );
  }
  return images[n - 1];
}

function buildQuery(query: string, imagePath: string | undefined, userImage?: ImageInput): MultimodalQuery {
  const hasText = query.trim() !== "";
  const terms: QueryTerm[] = [];
  if (imagePath !== undefined && imagePath.trim() !== "") terms.push({ image: imagePath, weight: 1 });
  if (userImage !== undefined) terms.push({ image: userImage, weight: 1 });
  if (terms.length === 0) {
    if (!hasText) throw new QueryError("Empty query: give a query, an imagePath, or both");
    return query;
  }
  if (hasText) terms.push(...parseQueryString(query));
  return { terms };
}

function toResult(doc: DocumentInterface, index: number): ImageSearchToolResult {
  const { score, source, imageDataUri: _omitted, ...rest } = doc.metadata as Record<string, unknown>;
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) continue;
    if ((JSON.stringify(value)?.length ?? 0) > MAX_VALUE_CHARS) continue;
    metadata[key] = value;
  }
  return {
    rank: index + 1,
    score: Math.round((score as number) * 1e4) / 1e4,
    ...(typeof source === "string" ? { source } : {}),
    ...(doc.id !== undefined ? { id: doc.id } : {}),
    metadata,
  };
}
