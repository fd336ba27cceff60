/** SQL names for the store's table and columns, quoted so that any name is safe in a statement. */

/** The table and column names, as LangChain's `PGVectorStore` names them by default. */
export interface PgvectorColumns {
  /** Default: `"id"` (uuid, primary key). */
  idColumnName?: string;
  /** Default: `"embedding"` (vector). */
  vectorColumnName?: string;
  /** Default: `"text"` (text: the Document's pageContent). */
  contentColumnName?: string;
  /** Default: `"metadata"` (jsonb). */
  metadataColumnName?: string;
}

export interface TableNames {
  /** The quoted, schema-qualified table, ready to splice into SQL. */
  table: string;
  /** The table as given (unquoted), for messages and the model record. */
  tableName: string;
  id: string;
  vector: string;
  content: string;
  metadata: string;
  /** A name for the HNSW index: unique per table. */
  hnswIndex: string;
}

/** `"name"`, with embedded quotes doubled. */
export function quoteIdentifier(name: string): string {
  if (typeof name !== "string" || name === "" || name.includes("\0")) {
    throw new TypeError(`Expected a non-empty SQL name but received ${JSON.stringify(name)}`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}

export function tableNames(
  tableName: string,
  schemaName: string | undefined,
  columns: PgvectorColumns = {},
): TableNames {
  const table = (schemaName ? `${quoteIdentifier(schemaName)}.` : "") + quoteIdentifier(tableName);
  return {
    table,
    tableName: schemaName ? `${schemaName}.${tableName}` : tableName,
    id: quoteIdentifier(columns.idColumnName ?? "id"),
    vector: quoteIdentifier(columns.vectorColumnName ?? "embedding"),
    content: quoteIdentifier(columns.contentColumnName ?? "text"),
    metadata: quoteIdentifier(columns.metadataColumnName ?? "metadata"),
    hnswIndex: quoteIdentifier(`${tableName}_${columns.vectorColumnName ?? "embedding"}_hnsw_idx`.slice(0, 63)),
  };
}
