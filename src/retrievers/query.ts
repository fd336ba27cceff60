/**
 * What a `MultimodalRetriever` query can be, and how it becomes a list of weighted
 * terms. This file only parses and validates; embedding the terms is `query_vector.ts`.
 *
 * A query is one of:
 * - a string, read with the query syntax below (a plain description is one text term);
 * - `{ text }`: one text, taken literally (no syntax);
 * - `{ image }`: one image, any `ImageInput` (path, URL, bytes, base64, Blob, pixels, image content block);
 * - an image content block from a chat message, as it is: one image term;
 * - an arithmetic object, in the style of rclip's "this photo, plus snow, minus people":
 *   `{ positive: [{ image: photo }, "snow"], negative: ["people"] }`
 *   and/or explicit weights: `{ terms: [{ text: "red circle", weight: 1 }, { image: buf, weight: 0.5 }] }`.
 *   Strings in `positive` / `negative` are literal texts. A `weight` in `positive` or
 *   `negative` is a magnitude (default 1); `negative` flips its sign.
 *
 * ## String syntax
 * ```text
 * query   := [sign] term (sign term)*
 * sign    := "+" | "-"            written with spaces around it: "a - b", not "a-b"
 * term    := [weight "*"] (image | text)
 * weight  := a number: 2, 0.5, .25, 1e-1 (a leading sign is allowed: -0.5*snow)
 * image   := "image:" path-or-URL  (quote it if it holds " + " or " - ": image:"./a - b.jpg")
 * text    := words, or "quoted text" that may hold + and - freely
 * ```
 * Examples: `"red circle - red + blue"`, `"image:./photo.jpg + snow - people"`,
 * `"image:https://example.com/cat.jpg + 0.5*snow"`, `"\"t-shirt - logo\" + red"`.
 * A `+` or `-` that is preceded by a space but not followed by one (`"red -blue"`) is
 * rejected as ambiguous rather than guessed at; hyphens inside words (`"t-shirt"`) are text.
 */
import { describeImageBlock, isImageContentBlock, type ImageContentBlock } from "../images/image_block.js";
import type { ImageInput } from "../images/image_input.js";

/** A text term. `weight` defaults to 1. */
export interface QueryText {
  text: string;
  weight?: number;
}

/** An image term: any `ImageInput`. `weight` defaults to 1. */
export interface QueryImage {
  image: ImageInput;
  weight?: number;
}

export type QueryTerm = QueryText | QueryImage;

/** Query arithmetic. At least one of the three lists must hold a term. */
export interface ArithmeticQuery {
  /** Added with `+weight` (default weight 1). Strings are literal texts; image content blocks are images. */
  positive?: (string | QueryTerm | ImageContentBlock)[];
  /** Subtracted: added with `-weight` (default weight 1). Strings are literal texts; image content blocks are images. */
  negative?: (string | QueryTerm | ImageContentBlock)[];
  /** Added with their own signed `weight` (default 1). */
  terms?: QueryTerm[];
}

/**
 * Everything `MultimodalRetriever.invoke` accepts. An image content block from a chat
 * message (`{ type: "image", url }`, `{ type: "image", data, mimeType }` or
 * `{ type: "image_url", ... }`) is one image term, the same as `{ image: block }`.
 */
export type MultimodalQuery = string | QueryTerm | ArithmeticQuery | ImageContentBlock;

/** A term after parsing: exactly one of `text` / `image`, and a finite weight. */
export type ResolvedTerm =
  { text: string; weight: number; image?: undefined } | { image: ImageInput; weight: number; text?: undefined };

/** A query that cannot be read: malformed syntax, an empty query, a bad weight. */
export class QueryError extends Error {
  override name = "QueryError";

  constructor(
    message: string,
    /** The query string, when the error is in the string syntax. */
    readonly query?: string,
    /** 1-based column in `query` where the problem is, when known. */
    readonly column?: number,
  ) {
    super(message);
  }
}

const SYNTAX_HELP =
  'Syntax: terms joined by " + " or " - " (with spaces), optional weights like 0.5*snow, ' +
  'images as image:<path or URL>, e.g. "red circle - red + blue" or "image:./photo.jpg + 0.5*snow - people".';

/**
 * Parses the query string syntax (see the file comment) into weighted terms.
 * Throws `QueryError` with the column of the problem.
 *
 * @example
 * ```typescript
 * parseQueryString("image:./photo.jpg + 0.5*snow - people");
 * // [{ image: "./photo.jpg", weight: 1 }, { text: "snow", weight: 0.5 }, { text: "people", weight: -1 }]
 * ```
 */
export function parseQueryString(query: string): ResolvedTerm[] {
  if (typeof query !== "string") throw new TypeError(`Expected a string for query but received ${typeof query}`);
  const fail = (reason: string, index: number): never => {
    throw new QueryError(
      `Malformed query ${JSON.stringify(query)}: ${reason} at column ${index + 1}. ${SYNTAX_HELP}`,
      query,
      index + 1,
    );
  };
  const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);
  const isOperatorAt = (i: number) =>
    (query[i] === "+" || query[i] === "-") && (i + 1 === query.length || isSpace(query[i + 1]));

  let pos = 0;
  const skipSpaces = () => {
    while (isSpace(query[pos])) pos++;
  };
  skipSpaces();
  if (pos === query.length)
    throw new QueryError(
      `Empty query ${JSON.stringify(query)}: expected a text, an image or query arithmetic. ${SYNTAX_HELP}`,
      query,
    );

  let sign = 1;
  if (isOperatorAt(pos)) {
    sign = query[pos] === "-" ? -1 : 1;
    pos++;
    skipSpaces();
    if (pos === query.length) fail(`expected a term after "${query[pos - 1] ?? ""}"`, pos - 1);
  }

  const terms: ResolvedTerm[] = [];
  for (;;) {
    if (isOperatorAt(pos)) fail(`expected a term before "${query[pos]}"`, pos);
    const start = pos;
    let quoteAt = -1;
    let operatorAt = -1;
    while (pos < query.length) {
      const c = query[pos];
      if (c === '"') quoteAt = quoteAt < 0 ? pos : -1;
      else if (quoteAt < 0 && isSpace(c)) {
        let j = pos;
        while (isSpace(query[j])) j++;
        if (isOperatorAt(j)) {
          operatorAt = j;
          break;
        }
        pos = j;
        continue;
      }
      pos++;
    }
    if (quoteAt >= 0) fail("unterminated quote", quoteAt);
    terms.push(parseTerm(query.slice(start, pos), start, sign, fail));
    if (operatorAt < 0) break;
    sign = query[operatorAt] === "-" ? -1 : 1;
    pos = operatorAt + 1;
    skipSpaces();
    if (pos === query.length) fail(`expected a term after "${query[operatorAt]}"`, operatorAt);
  }
  return terms;
}

const WEIGHT = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*\*\s*/i;

function parseTerm(
  raw: string,
  offset: number,
  sign: number,
  fail: (reason: string, index: number) => never,
): ResolvedTerm {
  let body = raw.trimEnd();
  let at = offset;
  let weight = 1;
  const w = WEIGHT.exec(body);
  if (w) {
    weight = Number(w[1]);
    if (!Number.isFinite(weight)) fail(`weight ${w[1]} is not a finite number`, at);
    body = body.slice(w[0].length);
    at += w[0].length;
    if (body === "") fail(`expected a term after "${w[0].trim()}"`, at);
  }
  weight *= sign;

  if (body.startsWith("image:")) {
    const rest = body.slice("image:".length);
    let path = rest.trimStart();
    const pathAt = at + "image:".length + (rest.length - path.length);
    if (path.startsWith('"')) path = unquote(path, pathAt, fail);
    else if (path.includes('"'))
      fail('a quote inside an image path: quote the whole path, image:"..."', pathAt + path.indexOf('"'));
    if (path.trim() === "") fail('expected a path or URL after "image:"', pathAt);
    return { image: path, weight };
  }
  if (body.startsWith('"')) return { text: unquote(body, at, fail), weight };
  if (body.includes('"')) fail("a quote inside a term: quote the whole text", at + body.indexOf('"'));
  const ambiguous = /(^|\s)[+-](?=\S)/.exec(body);
  if (ambiguous) {
    const i = ambiguous.index + ambiguous[1].length;
    const word = body.slice(i).split(/\s/)[0];
    fail(`"${word}" is ambiguous: put spaces around + and - ("a - b"), or quote the text`, at + i);
  }
  return { text: body, weight };
}

function unquote(quoted: string, at: number, fail: (reason: string, index: number) => never): string {
  const close = quoted.indexOf('"', 1);
  if (close < 0) fail("unterminated quote", at);
  if (close !== quoted.length - 1) fail("unexpected text after the closing quote", at + close + 1);
  const inner = quoted.slice(1, close);
  if (inner.trim() === "") fail("empty quoted term", at);
  return inner;
}

/**
 * Turns any `MultimodalQuery` into weighted terms, validating it. A string goes
 * through `parseQueryString`; objects are checked field by field.
 */
export function normalizeQuery(query: MultimodalQuery): ResolvedTerm[] {
  if (typeof query === "string") return parseQueryString(query);
  if (typeof query !== "object" || query === null || Array.isArray(query)) {
    throw new QueryError(
      `Expected a query string, { text }, { image }, an image content block, or { positive, negative, terms } but received ${describe(query)}`,
    );
  }
  if (isImageContentBlock(query)) return [{ image: query, weight: 1 }];
  if ("text" in query || "image" in query) {
    const extra = Object.keys(query).filter((key) => key !== "text" && key !== "image" && key !== "weight");
    if (extra.length > 0)
      throw new QueryError(`Unexpected field ${extra.map((e) => `"${e}"`).join(", ")} in query term`);
    return [resolveTerm(query as QueryTerm, 1, "query")];
  }
  const known = ["positive", "negative", "terms"];
  const unknown = Object.keys(query).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new QueryError(
      `Unexpected field ${unknown.map((u) => `"${u}"`).join(", ")} in query: expected text, image, or positive / negative / terms`,
    );
  }
  const q = query as ArithmeticQuery;
  const terms: ResolvedTerm[] = [];
  for (const [field, sign] of [
    ["positive", 1],
    ["negative", -1],
    ["terms", 1],
  ] as const) {
    const list = q[field];
    if (list === undefined) continue;
    if (!Array.isArray(list))
      throw new QueryError(`Expected an array for query.${field} but received ${describe(list)}`);
    list.forEach((item, i) => {
      const where = `query.${field}[${i}]`;
      if (field !== "terms" && typeof item === "string") terms.push(resolveTerm({ text: item }, sign, where));
      else if (field !== "terms" && isImageContentBlock(item)) terms.push({ image: item, weight: sign });
      else if (field === "terms" && typeof item === "string") {
        throw new QueryError(
          `Expected { text, weight } or { image, weight } for ${where} but received a string; use positive / negative for plain strings`,
        );
      } else terms.push(resolveTerm(item as QueryTerm, sign, where));
    });
  }
  if (terms.length === 0) throw new QueryError("Empty query: positive, negative and terms hold no term");
  return terms;
}

function resolveTerm(term: QueryTerm, sign: number, where: string): ResolvedTerm {
  if (typeof term !== "object" || term === null) {
    throw new QueryError(`Expected { text } or { image } for ${where} but received ${describe(term)}`);
  }
  const hasText = "text" in term && term.text !== undefined;
  const hasImage = "image" in term && term.image !== undefined;
  if (hasText === hasImage) {
    throw new QueryError(
      `Expected exactly one of text or image in ${where} but received ${hasText ? "both" : "neither"}`,
    );
  }
  const weight = term.weight ?? 1;
  if (typeof weight !== "number" || !Number.isFinite(weight)) {
    throw new QueryError(`Expected a finite number for ${where}.weight but received ${describe(term.weight)}`);
  }
  if (hasText) {
    const text = (term as QueryText).text;
    if (typeof text !== "string")
      throw new QueryError(`Expected a string for ${where}.text but received ${describe(text)}`);
    if (text.trim() === "") throw new QueryError(`Empty text in ${where}`);
    return { text, weight: sign * weight };
  }
  return { image: (term as QueryImage).image, weight: sign * weight };
}

/**
 * A short, loggable form of a query: texts as written, images by path or URL, or by
 * kind and size for bytes. Used for callbacks and tracing, which should never carry
 * megabytes of image data.
 */
export function describeQuery(query: MultimodalQuery): string {
  if (typeof query === "string") return query;
  let terms: ResolvedTerm[];
  try {
    terms = normalizeQuery(query);
  } catch {
    return `(invalid query: ${describe(query)})`;
  }
  return terms
    .map((t, i) => {
      const magnitude = Math.abs(t.weight);
      const sign = t.weight < 0 ? "- " : i === 0 ? "" : "+ ";
      const body =
        t.text !== undefined
          ? / [+-] |"/.test(t.text)
            ? JSON.stringify(t.text)
            : t.text
          : `image:${describeImage(t.image)}`;
      return `${sign}${magnitude === 1 ? "" : `${magnitude}*`}${body}`;
    })
    .join(" ");
}

function describeImage(image: ImageInput): string {
  if (typeof image === "string") {
    if (image.startsWith("data:")) return `<data URI, ${image.length} chars>`;
    return image.length > 200 ? `<string, ${image.length} chars>` : image;
  }
  if (image instanceof URL) return image.href;
  if (image instanceof Uint8Array) return `<bytes, ${image.length}>`;
  if (image instanceof ArrayBuffer) return `<bytes, ${image.byteLength}>`;
  if (typeof Blob !== "undefined" && image instanceof Blob) return `<Blob, ${image.size} bytes>`;
  if (isImageContentBlock(image)) return `<${describeImageBlock(image)}>`;
  if (typeof image === "object" && image !== null && "width" in image) return `<pixels ${image.width}x${image.height}>`;
  return `<${typeof image}>`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "object") return "an object";
  return `${String(value)} of type ${typeof value}`;
}
