/**
 * Metadata filters. A function sees the whole Document; an object matches when every
 * key matches: a plain value by equality, an array by membership ("one of").
 *
 * @example
 * { album: "holiday" }               // metadata.album === "holiday"
 * { format: ["jpeg", "png"] }        // metadata.format is one of them
 * (doc) => doc.metadata.width > 1000
 */
import type { Document } from "@langchain/core/documents";

export type MetadataFilter = ((document: Document) => boolean) | Record<string, unknown>;

export function compileFilter(filter: MetadataFilter | undefined): ((document: Document) => boolean) | undefined {
  if (filter === undefined) return undefined;
  if (typeof filter === "function") return filter;
  if (typeof filter !== "object" || filter === null) {
    throw new TypeError(
      `Expected a function or an object for filter but received ${filter === null ? "null" : typeof filter}`,
    );
  }
  const entries = Object.entries(filter);
  return (document) =>
    entries.every(([key, expected]) => {
      const actual = document.metadata?.[key];
      return Array.isArray(expected) ? expected.some((e) => sameValue(actual, e)) : sameValue(actual, expected);
    });
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return false;
}
