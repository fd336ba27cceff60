/**
 * The local web page over a folder index: search box, query by uploaded image, a
 * grid of thumbnails with scores, "more like this", and a duplicates view.
 *
 * Safety, since it reads files from disk on request:
 * - Only indexed images are served, looked up by entry id; the file path always comes
 *   from the index, never from the request, and its bytes must still hash to the id.
 * - The server never fetches a URL a client gives: text queries may not hold image
 *   terms, uploads are bytes, and the embeddings have `allowRemote: false`.
 * - Uploads are capped (`maxUploadBytes`, 413 beyond it).
 * - Bound to 127.0.0.1 by default; requests whose Host header is not this server's
 *   are refused (a defence against DNS rebinding).
 * - The page loads nothing from other origins; a Content-Security-Policy enforces it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Document } from "@langchain/core/documents";
import { ImageInputError } from "../errors.js";
import { openImageIndex, type OpenIndexOptions } from "../indexer/open_index.js";
import {
  DEFAULT_DUPLICATE_THRESHOLD,
  duplicateGroups,
  pathsOfDocument,
  searchIndex,
  similarToEntry,
  type SearchHit,
} from "../indexer/search.js";
import type { ImageEmbeddings } from "../embeddings/image_embeddings.js";
import { sniffImageMime } from "../retrievers/image_data.js";
import { parseQueryString, QueryError } from "../retrievers/query.js";
import { ImageFaissStore, type LoadOptions } from "../vectorstores/image_faiss_store.js";
import { currentVersion } from "../vectorstores/persistence.js";
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from "./page.js";
import { readIndexedFile, ThumbnailCache } from "./thumbnails.js";

/** `store`: load options of the index (search parameters, threads, where its vectors live), kept for its reloads. */
export interface ImageServerOptions extends Pick<OpenIndexOptions, "model" | "dtype" | "store"> {
  /** The index folder to serve. */
  indexDir: string;
  /** Interface to bind. Default: `"127.0.0.1"` (this machine only). */
  host?: string;
  /** Port; 0 picks a free one. Default: `8080`. */
  port?: number;
  /** Largest query image upload, in bytes. Default: 20 MiB. */
  maxUploadBytes?: number;
  /** Longest side of thumbnails, in pixels. Default: `256`. */
  thumbnailSize?: number;
  /** Where thumbnails are cached. Default: `<indexDir>/thumbnails`. */
  thumbnailDir?: string;
  /** Largest k a client may ask for. Default: `200`. */
  maxResults?: number;
}

export interface RunningImageServer {
  /** e.g. `http://127.0.0.1:8080/` */
  url: string;
  server: Server;
  /** True when the served index reads its vectors from files (`vectorsOnDisk`). */
  vectorsOnDisk: boolean;
  /** Reads the served index's vector files once into the page cache (see `ImageFaissStore.prefetchVectors`); the bytes read. */
  prefetchVectors(): Promise<number>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Opens the index (loading its model) and starts serving it. */
export async function startImageServer(options: ImageServerOptions): Promise<RunningImageServer> {
  const host = options.host ?? "127.0.0.1";
  const maxUploadBytes = options.maxUploadBytes ?? 20 * 1024 * 1024;
  const maxResults = options.maxResults ?? 200;
  const opened = await openImageIndex(options.indexDir, {
    model: options.model,
    dtype: options.dtype,
    store: options.store,
    embeddings: { allowRemote: false },
  });
  const index = new LiveIndex(opened.dir, opened.store, opened.embeddings, opened.loadOptions);
  const thumbnails = new ThumbnailCache(
    options.thumbnailDir ?? join(opened.dir, "thumbnails"),
    options.thumbnailSize ?? 256,
  );
  void thumbnails.prune(opened.store.entries().map((e) => e.id));
  // One query at a time keeps memory flat under load; the model runs in the inference
  // worker, so the event loop keeps answering other requests (pages, thumbnails) meanwhile.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendError(res, error));
  });
  let allowedHosts: Set<string> = new Set();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!allowedHosts.has((req.headers.host ?? "").toLowerCase()) && !isWildcard(host)) {
      throw new HttpError(421, "Unexpected Host header: this server only answers requests addressed to itself");
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const route = `${method} ${url.pathname}`;
    const k = () => intParam(url, "k", 24, 1, maxResults);

    if (route === "GET /" || route === "GET /index.html")
      return send(res, 200, PAGE_HTML, "text/html; charset=utf-8", PAGE_CSP);
    if (route === "GET /app.js") return send(res, 200, PAGE_JS, "text/javascript; charset=utf-8");
    if (route === "GET /app.css") return send(res, 200, PAGE_CSS, "text/css; charset=utf-8");
    if (route === "GET /favicon.ico") return send(res, 204, "", "image/x-icon");
    if (route === "GET /api/info") {
      const store = await index.get();
      return sendJson(res, {
        entries: store.size,
        model: opened.embeddings.model,
        indexType: store.indexType,
        maxUploadBytes,
      });
    }
    if (route === "GET /api/search") {
      const q = (url.searchParams.get("q") ?? "").trim();
      if (!q) throw new HttpError(400, "Missing query: /api/search?q=...");
      const terms = parseQueryString(q);
      if (terms.some((t) => t.image !== undefined)) {
        throw new HttpError(
          400,
          'Image terms (image:...) are not accepted here: upload the image, or use "more like this"',
        );
      }
      const store = await index.get();
      const hits = await serially(() => searchIndex(store, q, { k: k(), threshold: floatParam(url, "threshold") }));
      return sendJson(res, { query: q, results: hits.map(withLinks) });
    }
    if (route === "POST /api/search-image") {
      const bytes = await readBody(req, maxUploadBytes);
      if (bytes.length === 0) throw new HttpError(400, "Empty upload: send the image's bytes as the request body");
      const store = await index.get();
      const hits = await serially(() =>
        searchIndex(store, { image: bytes }, { k: k(), threshold: floatParam(url, "threshold") }),
      );
      return sendJson(res, { results: hits.map(withLinks) });
    }
    const similar = /^\/api\/similar\/([^/]+)$/.exec(url.pathname);
    if (method === "GET" && similar) {
      const store = await index.get();
      const id = decodeId(similar[1]);
      if (!index.document(id)) throw new HttpError(404, "No such image in the index");
      const hits = await similarToEntry(store, id, { k: k(), threshold: floatParam(url, "threshold") });
      return sendJson(res, { id, results: hits.map(withLinks) });
    }
    if (route === "GET /api/duplicates") {
      const store = await index.get();
      const threshold = floatParam(url, "threshold") ?? DEFAULT_DUPLICATE_THRESHOLD;
      if (!(threshold > -1 && threshold <= 1)) throw new HttpError(400, "threshold must be above -1 and at most 1");
      const groups = await serially(async () => duplicateGroups(store, threshold));
      return sendJson(res, {
        threshold,
        groups: groups.map((g) => ({
          ...g,
          images: g.images.map((image) => ({
            ...image,
            thumb: `/thumb/${encodeURIComponent(image.id)}`,
            image: `/image/${encodeURIComponent(image.id)}`,
          })),
        })),
      });
    }
    const file = /^\/(thumb|image)\/([^/]+)$/.exec(url.pathname);
    if ((method === "GET" || method === "HEAD") && file) {
      await index.get();
      const id = decodeId(file[2]);
      const document = index.document(id);
      if (!document) throw new HttpError(404, "No such image in the index");
      const paths = pathsOfDocument(document);
      if (file[1] === "thumb") {
        const thumbnail = await thumbnails.get(id, paths);
        if (!thumbnail)
          throw new HttpError(404, "The image's file is gone or has changed since it was indexed: run index again");
        return send(res, 200, thumbnail, "image/webp", IMAGE_CSP, "private, max-age=86400, immutable");
      }
      const original = await readIndexedFile(id, paths);
      if (!original)
        throw new HttpError(404, "The image's file is gone or has changed since it was indexed: run index again");
      const mime = sniffImageMime(original.bytes) ?? "application/octet-stream";
      return send(res, 200, original.bytes, mime, IMAGE_CSP, "private, max-age=3600");
    }
    if (KNOWN_PATHS.has(url.pathname) || similar || file)
      throw new HttpError(405, `Method ${method} is not allowed here`);
    throw new HttpError(404, "Not found");
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(options.port ?? 8080, host, () => {
      server.off("error", rejectListen);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  allowedHosts = new Set(
    [`${shownHost}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`].map((h) => h.toLowerCase()),
  );
  return {
    url: `http://${isWildcard(host) ? "127.0.0.1" : shownHost}:${port}/`,
    server,
    vectorsOnDisk: opened.store.vectorsOnDisk,
    prefetchVectors: async () => (await index.get()).prefetchVectors(),
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }).then(() => opened.embeddings.dispose()),
  };
}

/** The served store, reloaded when `index` saves a new version (checked at most once a second). */
class LiveIndex {
  private version: string | undefined;
  private documents = new Map<string, Document>();
  private checkedAt = 0;
  private loading?: Promise<ImageFaissStore>;

  constructor(
    private readonly dir: string,
    private store: ImageFaissStore,
    private readonly embeddings: ImageEmbeddings,
    private readonly loadOptions: LoadOptions,
  ) {
    this.index(store);
    void currentVersion(dir).then((v) => (this.version = v));
  }

  async get(): Promise<ImageFaissStore> {
    if (this.loading) return this.loading;
    if (Date.now() - this.checkedAt < 1000) return this.store;
    this.checkedAt = Date.now();
    const version = await currentVersion(this.dir).catch(() => this.version);
    if (version === this.version) return this.store;
    this.loading = ImageFaissStore.load(this.dir, this.embeddings, this.loadOptions)
      .then((store) => {
        this.store = store;
        this.version = version;
        this.index(store);
        return store;
      })
      .catch(() => this.store) // a version removed while loading: keep serving the one we have
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  document(id: string): Document | undefined {
    return this.documents.get(id);
  }

  private index(store: ImageFaissStore): void {
    this.documents = new Map(store.entries().map((e) => [e.id, e.document]));
  }
}

const KNOWN_PATHS = new Set([
  "/",
  "/index.html",
  "/app.js",
  "/app.css",
  "/api/info",
  "/api/search",
  "/api/search-image",
  "/api/duplicates",
]);

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** Served images (SVG can hold scripts) get no powers at all. */
const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

function withLinks(hit: SearchHit) {
  const id = encodeURIComponent(hit.id);
  return { ...hit, thumb: `/thumb/${id}`, image: `/image/${id}` };
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type: string,
  csp?: string,
  cache = "no-store",
): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": cache,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    ...(csp ? { "Content-Security-Policy": csp } : {}),
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  send(res, status, JSON.stringify(value), "application/json; charset=utf-8");
}

function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  let status = 500;
  if (error instanceof HttpError) status = error.status;
  else if (error instanceof QueryError) status = 400;
  else if (error instanceof ImageInputError) status = error.code === "TOO_LARGE" ? 413 : 400;
  if ((error as { closeConnection?: boolean }).closeConnection) res.setHeader("Connection", "close");
  const message =
    status === 500 ? `Internal error: ${(error as Error)?.message ?? String(error)}` : (error as Error).message;
  if (status === 500) process.stderr.write(`[serve] ${(error as Error)?.stack ?? String(error)}\n`);
  sendJson(res, { error: message }, status);
}

/**
 * Reads a request body of at most `limit` bytes. A larger body is read to its end and
 * discarded before the 413 answer, so that the client, still sending, gets the answer
 * rather than a broken pipe; a body larger than `discardLimit` is cut off at once.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const discardLimit = 4 * limit + 16 * 1024 * 1024;
  const tooLarge = (closeConnection: boolean) =>
    Object.assign(new HttpError(413, `Upload too large: the limit is ${limit} bytes`), { closeConnection });
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > discardLimit) {
    req.resume();
    return Promise.reject(tooLarge(true));
  }
  return new Promise<Buffer>((resolveBody, rejectBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > discardLimit) {
        req.removeAllListeners("data");
        req.resume();
        rejectBody(tooLarge(true));
      } else if (size > limit || over) {
        over = true;
        chunks.length = 0;
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => (over ? rejectBody(tooLarge(false)) : resolveBody(Buffer.concat(chunks))));
    req.on("error", rejectBody);
  });
}

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, "Malformed id");
  }
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new HttpError(400, `${name} must be an integer from ${min} to ${max}`);
  return n;
}

function floatParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new HttpError(400, `${name} must be a number`);
  return n;
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}
