import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { VectorStore } from "@langchain/core/vectorstores";
import type { PoolClient } from "pg";
import { normalizeInPlace } from "../../utils/vectors.js";
import { compileFilter, type MetadataFilter } from "../filter.js";
import { pathsOf, withPaths } from "../image_paths.js";
import { openPool, redactUrl, type SessionPool } from "./connection.js";
import { filterToSql, isObjectFilter } from "./filter_sql.js";
import { tableNames, type PgvectorColumns, type TableNames } from "./identifiers.js";
import { claimModelRecord, ensureModelRecordTable, modelIdentityOf } from "./model_record.js";
import { toRowId } from "./row_ids.js";
import { upsertSql } from "./upsert_sql.js";
import {
  checkIntegerInRange,
  createHnswIndex,
  ensureTable,
  hasHnswIndex,
  pgvectorVersion,
  versionAtLeast,
  type HnswBuildResult,
  type HnswOptions,
} from "./schema.js";
import { toVectorBinary } from "./vector_binary.js";
import { parseVectorLiteral } from "./vector_literal.js";

export interface PgvectorImageStoreArgs {
  /** `postgres://user:password@host:port/database`. Required. */
  connectionString: string;
  /** The table. Default: `"image_embeddings"` (LangChain's `PGVectorStore` has no default; pass the same name to both). */
  tableName?: string;
  /** The table's schema. Default: none (Postgres' search_path, usually `public`). */
  schemaName?: string;
  /** Column names, as `PGVectorStore`'s `columns` option. Default: `id`, `embedding`, `text`, `metadata`. */
  columns?: PgvectorColumns;
  /** The vector dimension, for embeddings that cannot report it. Default: `embeddings.getDimension()`. */
  dimension?: number;
  /** Most connections held at once. Default: `4`. */
  poolSize?: number;
  /** How long to wait for Postgres to accept and answer a connection before failing. Default: `10000` ms. */
  connectTimeoutMs?: number;
  /**
   * HNSW: candidates examined per search (`hnsw.ef_search`, set on every pooled
   * connection); higher is slower and more exact. Default: `100` (pgvector's is 40).
   */
  efSearch?: number;
  /**
   * Build the HNSW index automatically once the table holds this many rows (checked after
   * each `addVectors`); `Infinity` never does (call `createHnswIndex`). Below it, exact search
   * is fast (tens of ms at 10k rows). Default: `10000`.
   */
  hnswIndexAt?: number;
  /** Parameters for the automatic HNSW index. Default: pgvector's (`m` 16, `efConstruction` 64). */
  hnsw?: HnswOptions;
}

export interface PgvectorAddOptions {
  /** Row ids: UUIDs or SHA-256 content hashes. Default: each Document's id, else its `metadata.contentHash`, else random. */
  ids?: string[];
  /**
   * For an id already stored: keep the stored `metadata.paths` as well as the new ones
   * (united, sorted, `source` and `pageContent` the first), in the same statement, so
   * that concurrent writers of the same content under different paths lose none.
   * The rest of the row is replaced. Default: `false` (the row is replaced).
   */
  mergePaths?: boolean;
}

/** Rows written per INSERT: 4 parameters each, well under Postgres' 65535. */
const INSERT_CHUNK = 500;

type Scored = [Document, number];

/**
 * A Postgres + pgvector store for images (and texts) embedded with `ImageEmbeddings`,
 * written through node-postgres (`pg`, an optional peer dependency: `npm install pg`).
 *
 * - **LangChain's layout.** Rows live in a `PGVectorStore` table (`id` uuid, `text`,
 *   `metadata` jsonb, `embedding` vector(d)), so a user's `PGVectorStore` on the same
 *   `tableName` searches them.
 * - **Upserts.** A content hash id becomes the UUID made from it (`uuidFromContentHash`),
 *   written with `INSERT ... ON CONFLICT (id) DO UPDATE`: the same image is one row.
 * - **Paths** as the folder indexer keeps them (`metadata.paths`, `source` the first):
 *   `addPath`, `removePath` (which deletes an entry that loses its last path), `listPaths`.
 * - **Scores** are cosine similarities in [-1, 1], higher is better, as `ImageFaissStore`'s.
 * - **HNSW** built after a bulk load (`createHnswIndex`, or automatically at `hnswIndexAt`
 *   rows), with `hnsw.ef_search` (and, on pgvector >= 0.8, strict-order iterative scans, so
 *   a filtered search still finds k) set on every pooled connection.
 * - **One model per table.** Its id, dimension, projection head and pooling are recorded in
 *   the database; opening the table with other embeddings throws `StoreModelMismatchError`.
 *
 * @example
 * ```typescript
 * const embeddings = new ImageEmbeddings({ model: "Xenova/clip-vit-base-patch32" });
 * const store = await PgvectorImageStore.initialize(embeddings, {
 *   connectionString: "postgres://postgres:secret@localhost:5432/photos",
 * });
 * await addImagesToStore(store, ["photos/beach.jpg", "photos/dog.jpg"]);
 * const [[doc, score]] = await store.similaritySearchWithScore("a dog on a beach", 1);
 * console.log(doc.metadata.source, score.toFixed(3)); // photos/dog.jpg 0.281
 * await store.end();
 * ```
 */
export class PgvectorImageStore extends VectorStore {
  declare FilterType: MetadataFilter;

  static lc_name() {
    return "PgvectorImageStore";
  }

  /** The connection string with its password replaced by `***`. */
  readonly url: string;
  readonly dimension: number;
  readonly efSearch: number = 100;
  readonly hnswIndexAt: number = 10_000;
  /** pgvector's version on the server. */
  readonly pgvectorVersion: string;
  private readonly pool: SessionPool;
  private readonly names: TableNames;
  private readonly hnswOptions: HnswOptions;
  private indexed = false;

  private constructor(
    embeddings: EmbeddingsInterface,
    args: Required<Pick<PgvectorImageStoreArgs, "efSearch" | "hnswIndexAt">> & {
      pool: SessionPool;
      names: TableNames;
      url: string;
      dimension: number;
      version: string;
      hnsw: HnswOptions;
    },
  ) {
    super(embeddings, {});
    this.pool = args.pool;
    this.names = args.names;
    this.url = args.url;
    this.dimension = args.dimension;
    this.efSearch = args.efSearch;
    this.hnswIndexAt = args.hnswIndexAt;
    this.pgvectorVersion = args.version;
    this.hnswOptions = args.hnsw;
  }

  /**
   * Connects, creates the extension, the table and the model record when missing, and
   * checks that the table was filled by the same model. Rejects with
   * `StoreConnectionError` (naming the URL, password redacted) when Postgres cannot be
   * reached within `connectTimeoutMs`, and `StoreModelMismatchError` for another model.
   */
  static async initialize(embeddings: EmbeddingsInterface, args: PgvectorImageStoreArgs): Promise<PgvectorImageStore> {
    if (typeof args?.connectionString !== "string" || args.connectionString === "") {
      throw new TypeError(
        `Expected a postgres:// URL for connectionString but received ${JSON.stringify(args?.connectionString)}`,
      );
    }
    const efSearch = checkIntegerInRange("efSearch", args.efSearch ?? 100, 1, 1000);
    const hnswIndexAt = args.hnswIndexAt ?? 10_000;
    if (!(hnswIndexAt === Infinity || (Number.isInteger(hnswIndexAt) && hnswIndexAt > 0))) {
      throw new RangeError(
        `Expected a positive integer or Infinity for hnswIndexAt but received ${String(hnswIndexAt)}`,
      );
    }
    const poolSize = checkIntegerInRange("poolSize", args.poolSize ?? 4, 1, 1000);
    const connectTimeoutMs = checkIntegerInRange("connectTimeoutMs", args.connectTimeoutMs ?? 10_000, 1, 3_600_000);
    const identity = await modelIdentityOf(embeddings);
    const dimension = args.dimension ?? identity?.dimension;
    if (dimension === undefined || !Number.isInteger(dimension) || dimension <= 0) {
      throw new TypeError(
        `Expected a positive integer for dimension (these embeddings cannot report theirs) but received ${String(dimension)}`,
      );
    }
    if (identity && identity.dimension !== dimension) {
      throw new RangeError(
        `dimension is ${dimension}, but model "${identity.model}" makes ${identity.dimension}-d vectors`,
      );
    }
    const names = tableNames(args.tableName ?? "image_embeddings", args.schemaName, args.columns);
    const url = redactUrl(args.connectionString);

    let settings: string[] = [`SET hnsw.ef_search = ${efSearch}`];
    const pool = await openPool(args.connectionString, { poolSize, connectTimeoutMs, sessionSettings: () => settings });
    try {
      // The model first: another model's table is refused with the typed error, before any
      // dimension check on the table could fail less clearly.
      await ensureModelRecordTable(pool);
      if (identity) await claimModelRecord(pool, names.tableName, identity, `${url} (table ${names.tableName})`);
      await ensureTable(pool, names, dimension);
      const version = await pgvectorVersion(pool);
      // Without iterative scans an HNSW search returns at most ef_search rows, before the
      // filter: a selective filter would return fewer than k (pgvector >= 0.8 has them).
      if (versionAtLeast(version, "0.8.0")) settings = [...settings, "SET hnsw.iterative_scan = strict_order"];
      // Connections opened so far ran the first settings; run all of them on each, where an
      // error is reported (later connections run them in the pool's connect hook).
      await pool.applyToOpenConnections(settings.join("; "));
      const store = new PgvectorImageStore(embeddings, {
        pool,
        names,
        url,
        dimension,
        efSearch,
        hnswIndexAt,
        version,
        hnsw: args.hnsw ?? {},
      });
      store.indexed = await hasHnswIndex(pool, names);
      return store;
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  _vectorstoreType(): string {
    // Not "pgvector": PGVectorStore's scores are distances, this store's are similarities.
    return "pgvector_image";
  }

  /** The table as named in SQL messages (schema-qualified when a schema was given). */
  get tableName(): string {
    return this.names.tableName;
  }

  /** Rows in the table. */
  async count(): Promise<number> {
    const { rows } = await this.pool.query(`SELECT count(*)::int AS n FROM ${this.names.table}`);
    return rows[0].n as number;
  }

  /** Embeds texts with the text tower and stores them. For images use `addImagesToStore(store, images)`. */
  async addDocuments(documents: Document[], options?: { ids?: string[] }): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /**
   * Upserts rows: an id already stored is replaced. Ids are UUIDs, or SHA-256 content
   * hashes, stored as the UUID made from them (`uuidFromContentHash`); the ids returned
   * are the row ids. Default ids: each Document's `id`, else its `metadata.contentHash`,
   * else a random UUID. Vectors are stored at unit length. All rows are written in one
   * transaction; when several share an id, the last one wins. With `mergePaths`, a row
   * already stored keeps its `metadata.paths` too (see `PgvectorAddOptions`).
   */
  async addVectors(vectors: number[][], documents: Document[], options: PgvectorAddOptions = {}): Promise<string[]> {
    if (vectors.length !== documents.length) {
      throw new RangeError(`Got ${vectors.length} vectors but ${documents.length} documents`);
    }
    if (options.ids !== undefined && options.ids.length !== vectors.length) {
      throw new RangeError(`Got ${options.ids.length} ids for ${vectors.length} vectors`);
    }
    if (vectors.length === 0) return [];
    const ids = vectors.map((_, i) => {
      const given = options.ids?.[i] ?? documents[i].id ?? (documents[i].metadata?.contentHash as string | undefined);
      return given === undefined ? crypto.randomUUID() : toRowId(given);
    });
    const rows = vectors.map((vector, i) => {
      if (vector.length !== this.dimension) {
        throw new RangeError(
          `Vector ${i} has ${vector.length} dimensions but the store holds ${this.dimension}-d vectors`,
        );
      }
      const unit = Float32Array.from(vector);
      normalizeInPlace(unit);
      // Postgres text cannot hold NUL bytes.
      return [ids[i], documents[i].pageContent.replace(/\0/g, ""), documents[i].metadata ?? {}, toVectorBinary(unit)];
    });
    const last = new Map(ids.map((id, i) => [id, i]));
    const unique = rows.filter((_, i) => last.get(ids[i]) === i);
    const mergePaths = options.mergePaths ?? false;
    await this.transaction(async (client) => {
      for (let start = 0; start < unique.length; start += INSERT_CHUNK) {
        const chunk = unique.slice(start, start + INSERT_CHUNK);
        await client.query(upsertSql(this.names, chunk.length, mergePaths), chunk.flat());
      }
    });
    if (!this.indexed && this.hnswIndexAt !== Infinity && (await this.count()) >= this.hnswIndexAt) {
      await this.createHnswIndex(this.hnswOptions);
    }
    return ids;
  }

  /**
   * Builds the HNSW index (cosine) on the vector column, unless the table has one. Build it
   * after a bulk load: inserting into an existing graph is slower than building it once.
   * Resolves with whether it built one and, when the graph outgrew `maintenanceWorkMem`
   * (then the build is several times slower), after how many rows.
   */
  async createHnswIndex(options: HnswOptions = this.hnswOptions): Promise<HnswBuildResult> {
    const result = await createHnswIndex(this.pool, this.names, options);
    this.indexed = true;
    return result;
  }

  /** Deletes rows by id (UUIDs or content hashes), or every row matching an object filter. Unknown ids are ignored. */
  async delete(params: { ids?: string[]; filter?: Record<string, unknown> }): Promise<void> {
    const { ids, filter } = params ?? {};
    if ((ids === undefined) === (filter === undefined)) {
      throw new TypeError("Expected either { ids: string[] } or { filter: {...} } for delete");
    }
    if (ids !== undefined) {
      await this.pool.query(`DELETE FROM ${this.names.table} WHERE ${this.names.id} = ANY($1::uuid[])`, [
        ids.map(toRowId),
      ]);
      return;
    }
    if (!isObjectFilter(filter) || Object.keys(filter!).length === 0) {
      throw new TypeError("Expected an object with at least one key for delete's filter");
    }
    const sql = filterToSql(filter!, this.names.metadata, 1);
    await this.pool.query(`DELETE FROM ${this.names.table} WHERE ${sql.where}`, sql.parameters);
  }

  /**
   * The `k` most similar rows with their cosine similarity (higher is better). An object
   * filter runs in Postgres; a function filter is applied here, fetching more rows until
   * k match or the table is exhausted.
   */
  async similaritySearchVectorWithScore(query: number[], k: number, filter?: MetadataFilter): Promise<Scored[]> {
    if (!Number.isInteger(k) || k <= 0) throw new RangeError(`Expected positive integer for k but received ${k}`);
    if (query.length !== this.dimension) {
      throw new RangeError(`Query has ${query.length} dimensions but the store holds ${this.dimension}-d vectors`);
    }
    if (!isObjectFilter(filter)) {
      const accept = compileFilter(filter);
      if (!accept) return this.search(query, k, {});
      for (let fetch = k * 4; ; fetch *= 4) {
        const found = await this.search(query, fetch, {});
        const kept = found.filter(([doc]) => accept(doc));
        if (kept.length >= k || found.length < fetch) return kept.slice(0, k);
      }
    }
    return this.search(query, k, filter);
  }

  /** Stored vectors (unit length) by id, UUID or content hash; undefined for unknown ids. For MMR. */
  async getVectorsById(ids: string[]): Promise<(number[] | undefined)[]> {
    const rowIds = ids.map(toRowId);
    const { rows } = await this.pool.query(
      `SELECT ${this.names.id}::text AS id, ${this.names.vector}::text AS vector FROM ${this.names.table}
       WHERE ${this.names.id} = ANY($1::uuid[])`,
      [rowIds],
    );
    const byId = new Map(rows.map((r) => [r.id as string, parseVectorLiteral(r.vector as string)]));
    return rowIds.map((id) => byId.get(id));
  }

  /** Stored Documents by id, UUID or content hash; undefined for unknown ids. */
  async getDocumentsById(ids: string[]): Promise<(Document | undefined)[]> {
    const rowIds = ids.map(toRowId);
    const { rows } = await this.pool.query<DocumentRow>(
      `SELECT ${this.selectDocument} FROM ${this.names.table} WHERE ${this.names.id} = ANY($1::uuid[])`,
      [rowIds],
    );
    const byId = new Map(rows.map((r) => [r.id as string, rowDocument(r)]));
    return rowIds.map((id) => byId.get(id));
  }

  /**
   * Adds `path` to the `paths` of the entry `id` (`source` and `pageContent` follow the
   * first path, sorted). Returns false when there is no such entry. Atomic: the row is
   * locked while it changes, so concurrent writers do not lose each other's paths.
   */
  async addPath(id: string, path: string): Promise<boolean> {
    checkPath(path);
    const rowId = toRowId(id);
    return this.transaction(async (client) => {
      const document = await this.lockedDocument(client, rowId);
      if (!document) return false;
      await this.writeDocument(client, withPaths(document, [...(pathsOf(document) ?? []), path]));
      return true;
    });
  }

  /**
   * Removes `path` from every entry that lists it; an entry left with no path is deleted.
   * Returns the ids of the entries changed and of those deleted.
   */
  async removePath(path: string): Promise<{ updated: string[]; deleted: string[] }> {
    checkPath(path);
    const { table, id, metadata } = this.names;
    return this.transaction(async (client) => {
      const { rows } = await client.query<DocumentRow>(
        `SELECT ${this.selectDocument} FROM ${table} WHERE ${metadata} -> 'paths' ? $1 FOR UPDATE`,
        [path],
      );
      const result = { updated: [] as string[], deleted: [] as string[] };
      for (const row of rows) {
        const document = rowDocument(row);
        const left = (pathsOf(document) ?? []).filter((p) => p !== path);
        if (left.length === 0) {
          await client.query(`DELETE FROM ${table} WHERE ${id} = $1`, [document.id]);
          result.deleted.push(document.id!);
        } else {
          await this.writeDocument(client, withPaths(document, left));
          result.updated.push(document.id!);
        }
      }
      return result;
    });
  }

  /** Every entry that has a `paths` list: its id, content hash and paths. */
  async listPaths(): Promise<{ id: string; contentHash?: string; paths: string[] }[]> {
    const { id, metadata, table } = this.names;
    const { rows } = await this.pool.query<{ id: string; hash: string | null; paths: string[] }>(
      `SELECT ${id}::text AS id, ${metadata} ->> 'contentHash' AS hash, ${metadata} -> 'paths' AS paths
       FROM ${table} WHERE jsonb_typeof(${metadata} -> 'paths') = 'array'`,
    );
    return rows.map((r) => ({ id: r.id, ...(r.hash ? { contentHash: r.hash } : {}), paths: r.paths }));
  }

  /** Closes the pool's connections. The store cannot be used afterwards. */
  async end(): Promise<void> {
    await this.pool.end();
  }

  private get selectDocument(): string {
    const { id, content, metadata } = this.names;
    return `${id}::text AS id, ${content} AS content, ${metadata} AS metadata`;
  }

  private async search(query: number[], k: number, filter: Record<string, unknown>): Promise<Scored[]> {
    const unit = Float32Array.from(query);
    normalizeInPlace(unit);
    const sql = filterToSql(filter, this.names.metadata, 3);
    // ORDER BY the distance operator itself, so the planner can use the HNSW index.
    const { rows } = await this.pool.query<DocumentRow & { distance: number }>(
      `SELECT ${this.selectDocument}, ${this.names.vector} <=> $1::vector AS distance FROM ${this.names.table}
       ${sql.where ? `WHERE ${sql.where}` : ""}
       ORDER BY ${this.names.vector} <=> $1::vector LIMIT $2`,
      [toVectorBinary(unit), k, ...sql.parameters],
    );
    return rows.map((row) => [rowDocument(row), 1 - Number(row.distance)]);
  }

  private async lockedDocument(client: PoolClient, rowId: string): Promise<Document | undefined> {
    const { rows } = await client.query<DocumentRow>(
      `SELECT ${this.selectDocument} FROM ${this.names.table} WHERE ${this.names.id} = $1 FOR UPDATE`,
      [rowId],
    );
    return rows[0] ? rowDocument(rows[0]) : undefined;
  }

  private async writeDocument(client: PoolClient, document: Document): Promise<void> {
    const { table, id, content, metadata } = this.names;
    await client.query(`UPDATE ${table} SET ${content} = $2, ${metadata} = $3::jsonb WHERE ${id} = $1`, [
      document.id,
      document.pageContent,
      document.metadata,
    ]);
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

/** A row as `selectDocument` reads it. */
interface DocumentRow extends Record<string, unknown> {
  id: string;
  content: string | null;
  metadata: Record<string, unknown> | null;
}

function rowDocument(row: DocumentRow): Document {
  return new Document({ id: row.id, pageContent: row.content ?? "", metadata: row.metadata ?? {} });
}

function checkPath(path: string): void {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`Expected a non-empty string for path but received ${JSON.stringify(path)}`);
  }
}
