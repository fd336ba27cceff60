/** The query syntax and the object forms, without a model. */
import { describe, expect, it } from "vitest";
import { QueryError, describeQuery, normalizeQuery, parseQueryString } from "../../src/retrievers/query.js";

/** The error a parse throws, for asserting on its fields. */
function parseError(query: string): QueryError {
  try {
    parseQueryString(query);
  } catch (error) {
    expect(error).toBeInstanceOf(QueryError);
    return error as QueryError;
  }
  throw new Error(`expected ${JSON.stringify(query)} to be rejected`);
}

describe("parseQueryString", () => {
  it("reads a plain description as one text term", () => {
    expect(parseQueryString("a red circle")).toEqual([{ text: "a red circle", weight: 1 }]);
    expect(parseQueryString("  a red circle  ")).toEqual([{ text: "a red circle", weight: 1 }]);
  });

  it("reads + and - between terms", () => {
    expect(parseQueryString("red circle - red + blue")).toEqual([
      { text: "red circle", weight: 1 },
      { text: "red", weight: -1 },
      { text: "blue", weight: 1 },
    ]);
  });

  it("reads a leading sign", () => {
    expect(parseQueryString("- red + blue")).toEqual([
      { text: "red", weight: -1 },
      { text: "blue", weight: 1 },
    ]);
    expect(parseQueryString("+ red")).toEqual([{ text: "red", weight: 1 }]);
  });

  it("reads weights, with or without spaces around *, and signed weights", () => {
    expect(parseQueryString("0.5*snow + 2 * beach - .25*people + 1e-1*sky")).toEqual([
      { text: "snow", weight: 0.5 },
      { text: "beach", weight: 2 },
      { text: "people", weight: -0.25 },
      { text: "sky", weight: 0.1 },
    ]);
    expect(parseQueryString("-0.5*snow")).toEqual([{ text: "snow", weight: -0.5 }]);
    expect(parseQueryString("red - -2*blue")).toEqual([
      { text: "red", weight: 1 },
      { text: "blue", weight: 2 },
    ]);
  });

  it("reads image terms: paths, URLs, quoted paths, with weights", () => {
    expect(parseQueryString("image:./photo.jpg + snow - people")).toEqual([
      { image: "./photo.jpg", weight: 1 },
      { text: "snow", weight: 1 },
      { text: "people", weight: -1 },
    ]);
    expect(parseQueryString("0.5*image:https://example.com/a.png?x=1")).toEqual([
      { image: "https://example.com/a.png?x=1", weight: 0.5 },
    ]);
    expect(parseQueryString('image:"./my photo - copy.jpg" + red')).toEqual([
      { image: "./my photo - copy.jpg", weight: 1 },
      { text: "red", weight: 1 },
    ]);
    expect(parseQueryString("image:./my photo.jpg")).toEqual([{ image: "./my photo.jpg", weight: 1 }]);
    expect(parseQueryString("image: ./a.jpg")).toEqual([{ image: "./a.jpg", weight: 1 }]);
    expect(parseQueryString('"image:sunset" + image:b.jpg')).toEqual([
      { text: "image:sunset", weight: 1 },
      { image: "b.jpg", weight: 1 },
    ]);
  });

  it("keeps hyphens inside words and quoted operators as text", () => {
    expect(parseQueryString("t-shirt")).toEqual([{ text: "t-shirt", weight: 1 }]);
    expect(parseQueryString("red-orange star + c++")).toEqual([
      { text: "red-orange star", weight: 1 },
      { text: "c++", weight: 1 },
    ]);
    expect(parseQueryString('"rock - paper + scissors" - hands')).toEqual([
      { text: "rock - paper + scissors", weight: 1 },
      { text: "hands", weight: -1 },
    ]);
    expect(parseQueryString("3*x*y")).toEqual([{ text: "x*y", weight: 3 }]);
    expect(parseQueryString("2x*snow")).toEqual([{ text: "2x*snow", weight: 1 }]);
  });

  it.each([
    ["", /Empty query/],
    ["   ", /Empty query/],
    ["red +", /expected a term after "\+" at column 5/],
    ["red -   ", /expected a term after "-" at column 5/],
    ["-", /expected a term after "-" at column 1/],
    ["red + + blue", /expected a term before "\+" at column 7/],
    ["red - - blue", /expected a term before "-" at column 7/],
    ["red -blue", /"-blue" is ambiguous: put spaces around \+ and - .* at column 5/],
    ["red +blue", /"\+blue" is ambiguous/],
    ["-red", /"-red" is ambiguous/],
    ['"red circle', /unterminated quote at column 1/],
    ['red + "blue', /unterminated quote at column 7/],
    ['"red" circle', /unexpected text after the closing quote at column 6/],
    ['red "big" circle', /a quote inside a term: quote the whole text at column 5/],
    ['""', /empty quoted term at column 1/],
    ["image:", /expected a path or URL after "image:" at column 7/],
    ["red + image:  ", /expected a path or URL after "image:" at column 13/],
    ["0.5*", /expected a term after "0.5\*"/],
    ["1e999*snow", /weight 1e999 is not a finite number at column 1/],
    ['image:"a.jpg', /unterminated quote at column 7/],
  ])("rejects %j with a clear message", (query, message) => {
    const error = parseError(query);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(JSON.stringify(query));
    expect(error.message).toContain('Syntax: terms joined by " + " or " - "');
    expect(error.query).toBe(query);
  });

  it("reports the 1-based column of the problem", () => {
    expect(parseError("red + + blue").column).toBe(7);
    expect(parseError('red + "blue').column).toBe(7);
  });

  it("rejects a non-string", () => {
    expect(() => parseQueryString(3 as unknown as string)).toThrow("Expected a string for query but received number");
  });
});

describe("normalizeQuery", () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

  it("parses strings with the syntax", () => {
    expect(normalizeQuery("red - blue")).toEqual([
      { text: "red", weight: 1 },
      { text: "blue", weight: -1 },
    ]);
  });

  it("takes { text } literally and { image } as one image term", () => {
    expect(normalizeQuery({ text: "red - blue" })).toEqual([{ text: "red - blue", weight: 1 }]);
    expect(normalizeQuery({ image: png })).toEqual([{ image: png, weight: 1 }]);
    expect(normalizeQuery({ image: "a.jpg", weight: 2 })).toEqual([{ image: "a.jpg", weight: 2 }]);
  });

  it("adds positive, subtracts negative, and keeps the signs of terms", () => {
    expect(
      normalizeQuery({
        positive: [{ image: png }, "snow", { text: "sky", weight: 0.5 }],
        negative: ["people", { image: "b.jpg", weight: 2 }],
        terms: [{ text: "red", weight: -0.25 }],
      }),
    ).toEqual([
      { image: png, weight: 1 },
      { text: "snow", weight: 1 },
      { text: "sky", weight: 0.5 },
      { text: "people", weight: -1 },
      { image: "b.jpg", weight: -2 },
      { text: "red", weight: -0.25 },
    ]);
  });

  it("does not parse strings inside positive / negative", () => {
    expect(normalizeQuery({ positive: ["a - b"] })).toEqual([{ text: "a - b", weight: 1 }]);
  });

  it.each([
    [
      null,
      /Expected a query string, \{ text \}, \{ image \}, an image content block, or \{ positive, negative, terms \} but received null/,
    ],
    [42, /but received 42 of type number/],
    [["red"], /but received an array/],
    [{}, /Empty query: positive, negative and terms hold no term/],
    [{ positive: [], negative: [] }, /Empty query/],
    [{ positve: ["red"] }, /Unexpected field "positve" in query/],
    [{ positive: "red" }, /Expected an array for query.positive but received the string "red"/],
    [
      { terms: ["red"] },
      /Expected \{ text, weight \} or \{ image, weight \} for query.terms\[0\] but received a string/,
    ],
    [
      { terms: [{ text: "red", image: "a.jpg" }] },
      /exactly one of text or image in query.terms\[0\] but received both/,
    ],
    [{ negative: [{ weight: 2 }] }, /exactly one of text or image in query.negative\[0\] but received neither/],
    [
      { terms: [{ text: "red", weight: Number.NaN }] },
      /Expected a finite number for query.terms\[0\].weight but received NaN/,
    ],
    [{ terms: [{ text: "red", weight: "2" }] }, /query.terms\[0\].weight but received the string "2"/],
    [{ positive: ["  "] }, /Empty text in query.positive\[0\]/],
    [{ text: 5 }, /Expected a string for query.text but received 5/],
    [{ text: "red", k: 3 }, /Unexpected field "k" in query term/],
  ])("rejects %j", (query, message) => {
    expect(() => normalizeQuery(query as never)).toThrow(QueryError);
    expect(() => normalizeQuery(query as never)).toThrow(message);
  });
});

describe("describeQuery", () => {
  it("keeps strings and shows images by path or size, never their bytes", () => {
    expect(describeQuery("red - blue")).toBe("red - blue");
    expect(describeQuery({ image: Buffer.alloc(5000) })).toBe("image:<bytes, 5000>");
    expect(describeQuery({ positive: [{ image: "a.jpg" }, "snow"], negative: [{ text: "people", weight: 0.5 }] })).toBe(
      "image:a.jpg + snow - 0.5*people",
    );
    expect(describeQuery({ image: `data:image/png;base64,${"A".repeat(100)}` })).toBe("image:<data URI, 122 chars>");
    expect(describeQuery({ text: "a - b" })).toBe('"a - b"');
  });

  it("describes invalid queries without throwing", () => {
    expect(describeQuery({ nope: 1 } as never)).toBe("(invalid query: an object)");
  });
});

describe("image content blocks in queries", () => {
  const dataBlock = { type: "image", mimeType: "image/png", data: "iVBORw0KGgoAAAA=" } as const;
  const urlBlock = { type: "image_url", image_url: { url: "https://example.com/cat.png" } } as const;

  it("takes a block as one image term, alone or in positive / negative", () => {
    expect(normalizeQuery(dataBlock)).toEqual([{ image: dataBlock, weight: 1 }]);
    expect(normalizeQuery({ positive: [urlBlock, "snow"], negative: [dataBlock, "people"] })).toEqual([
      { image: urlBlock, weight: 1 },
      { text: "snow", weight: 1 },
      { image: dataBlock, weight: -1 },
      { text: "people", weight: -1 },
    ]);
    expect(normalizeQuery({ terms: [{ image: dataBlock, weight: 0.5 }] })).toEqual([{ image: dataBlock, weight: 0.5 }]);
  });

  it("describes blocks by kind and size, never by their data", () => {
    expect(describeQuery(dataBlock)).toBe("image:<image block, image/png 16 base64 chars>");
    expect(describeQuery({ positive: [urlBlock], negative: ["snow"] })).toBe(
      "image:<image_url block, https://example.com/cat.png> - snow",
    );
  });
});
