/**
 * The INSERT that writes rows: `ON CONFLICT (id) DO UPDATE`, so a row id (the UUID of a
 * content hash) already stored is updated in place. With `mergePaths`, the stored and the
 * new `metadata.paths` are united in the same statement, so writers that add the same
 * content under different paths at the same time keep every path: Postgres runs the
 * conflict clause against the committed row, which a read-then-write in JS could not.
 */
import type { TableNames } from "./identifiers.js";

/** Parameters per row: id, content, metadata, vector. */
export const UPSERT_PARAMETERS_PER_ROW = 4;

export function upsertSql(names: TableNames, rowCount: number, mergePaths: boolean): string {
  const { table, id, content, metadata, vector } = names;
  const n = UPSERT_PARAMETERS_PER_ROW;
  const values = Array.from(
    { length: rowCount },
    (_, r) => `($${n * r + 1}::uuid, $${n * r + 2}, $${n * r + 3}::jsonb, $${n * r + 4}::vector)`,
  );
  const insert = `INSERT INTO ${table} AS existing (${id}, ${content}, ${metadata}, ${vector}) VALUES ${values.join(", ")}
    ON CONFLICT (${id}) DO UPDATE SET ${vector} = EXCLUDED.${vector}, `;
  if (!mergePaths) return `${insert}${content} = EXCLUDED.${content}, ${metadata} = EXCLUDED.${metadata}`;

  const pathsOf = (row: string) =>
    `CASE WHEN jsonb_typeof(${row}.${metadata} -> 'paths') = 'array' THEN ${row}.${metadata} -> 'paths' ELSE '[]'::jsonb END`;
  // Sorted by code point (COLLATE "C"), each once; the first is the source, as withPaths does.
  const merged = `(SELECT coalesce(jsonb_agg(p ORDER BY p COLLATE "C"), '[]'::jsonb)
    FROM (SELECT DISTINCT jsonb_array_elements_text(${pathsOf("existing")} || ${pathsOf("EXCLUDED")}) AS p) AS united)`;
  return `${insert}
    ${content} = CASE WHEN ${merged} = '[]'::jsonb THEN EXCLUDED.${content} ELSE ${merged} ->> 0 END,
    ${metadata} = CASE WHEN ${merged} = '[]'::jsonb THEN EXCLUDED.${metadata}
      ELSE (EXCLUDED.${metadata} - 'paths' - 'source') || jsonb_build_object('paths', ${merged}, 'source', ${merged} ->> 0) END`;
}
