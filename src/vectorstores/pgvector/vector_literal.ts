/** pgvector's text form of a vector, `[0.1,0.2,...]`: how vectors are read back (they are sent in binary, vector_binary.ts). */

/** Parses pgvector's text output (node-postgres returns vectors as text). */
export function parseVectorLiteral(text: string): number[] {
  const values = JSON.parse(text) as unknown;
  if (!Array.isArray(values) || !values.every((v) => typeof v === "number")) {
    throw new TypeError(`Expected a pgvector value like [0.1,0.2] but received ${text.slice(0, 80)}`);
  }
  return values;
}
