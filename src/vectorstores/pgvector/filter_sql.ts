/**
 * Object metadata filters (see `../filter.ts`) as SQL over the jsonb metadata column, so
 * Postgres filters while it searches: a plain value matches by JSON equality, an array
 * by membership ("one of").
 */
import type { MetadataFilter } from "../filter.js";

export interface FilterSql {
  /** `""` for no filter, else `a AND b ...` using placeholders from `$<firstParameter>` on. */
  where: string;
  parameters: unknown[];
}

/**
 * The SQL condition for an object filter. `metadataColumn` is the quoted column name;
 * parameters are numbered from `firstParameter`. Function filters are not SQL: the store
 * applies them itself (see `PgvectorImageStore.similaritySearchVectorWithScore`).
 */
export function filterToSql(
  filter: Record<string, unknown>,
  metadataColumn: string,
  firstParameter: number,
): FilterSql {
  const clauses: string[] = [];
  const parameters: unknown[] = [];
  const next = (value: unknown) => {
    parameters.push(value);
    return `$${firstParameter + parameters.length - 1}`;
  };
  for (const [key, expected] of Object.entries(filter)) {
    if (expected === undefined) {
      throw new TypeError(`Expected a value for filter key ${JSON.stringify(key)} but received undefined`);
    }
    const field = `${metadataColumn} -> ${next(key)}::text`;
    if (Array.isArray(expected)) {
      clauses.push(`${field} = ANY(${next(expected.map((e) => JSON.stringify(e)))}::jsonb[])`);
    } else {
      clauses.push(`${field} = ${next(JSON.stringify(expected))}::jsonb`);
    }
  }
  return { where: clauses.join(" AND "), parameters };
}

/** Whether `filter` is the object form (done in SQL) rather than a function. */
export function isObjectFilter(filter: MetadataFilter | undefined): filter is Record<string, unknown> {
  if (filter === undefined || typeof filter === "function") return false;
  if (typeof filter !== "object" || filter === null) {
    throw new TypeError(
      `Expected a function or an object for filter but received ${filter === null ? "null" : typeof filter}`,
    );
  }
  return true;
}
