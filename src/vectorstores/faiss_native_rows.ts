/**
 * How rows of floats cross into faiss-node and results come back: through typed-array
 * methods when the addon has them, through faiss-node's plain-array methods otherwise.
 *
 * The typed-array methods (addBuffer, trainBuffer, searchBuffer) exist in an addon built
 * by scripts/install-faiss-node.mjs (scripts/faiss-node/buffer-methods.cc). They hand a
 * Float32Array's memory to faiss in place: 512-d bulk adds into a flat index went from
 * about 5,500 to 350,000 vectors/s here. faiss-node's prebuilt binary lacks them, and then
 * every float is copied into a JS array and read back one V8 handle at a time.
 *
 * `addRowsAsync` runs faiss's add on a libuv worker thread (addBufferAsync, addon v3), so
 * that JS can pack the next rows meanwhile (IndexedTable's pipelined appends) and the event
 * loop is not blocked for the whole add. Until it settles nothing else may call that index:
 * FaissIndex enforces it. Without addBufferAsync (faiss-node's prebuilt binary, an older
 * addon) it adds synchronously and resolves once done.
 */
import type { Index } from "faiss-node";

/** The typed-array methods of an addon built by our install script. */
export interface BufferMethods {
  addBuffer(rows: Float32Array): void;
  trainBuffer(rows: Float32Array): void;
  searchBuffer(queries: Float32Array, k: number): { distances: Float32Array; labels: Float64Array };
}

/** Search results for `nq` queries, `k` entries each, laid end to end; label -1 pads. */
export interface NativeHits {
  labels: ArrayLike<number>;
  distances: ArrayLike<number>;
}

/**
 * Floats per plain-array `add`. faiss-node reads a JS array element by element, creating
 * a V8 handle for each inside one scope, so a big call is slow: measured here with 512-d
 * rows, 16 rows per call added 15,000 vectors/s, 32 rows 7,300, and 4,096 rows 4,300.
 * 8,192 floats per call is the sweet spot whatever the dimension.
 */
const ARRAY_ADD_CHUNK_FLOATS = 8192;

/**
 * Rows per plain-array `add` for HNSW. Inserting into the graph costs far more than the
 * copy above (about 1.5 ms per 512-d vector against 0.07 ms), and faiss inserts on all
 * cores only when one call brings more than 100 vectors.
 */
const ARRAY_GRAPH_ADD_ROWS = 512;

/** The asynchronous add of an addon built by our install script (addon v3 on). */
export interface AsyncAddMethod {
  addBufferAsync(rows: Float32Array): Promise<void>;
}

export function hasAsyncAdd(native: Index): native is Index & AsyncAddMethod {
  return typeof (native as Partial<AsyncAddMethod>).addBufferAsync === "function";
}

export function hasBufferMethods(native: Index): native is Index & BufferMethods {
  const methods = native as Partial<BufferMethods>;
  return (
    typeof methods.addBuffer === "function" &&
    typeof methods.trainBuffer === "function" &&
    typeof methods.searchBuffer === "function"
  );
}

/** Adds rows laid end to end: in one call through a typed array, or in chunks of plain arrays. */
export function addRows(native: Index, flat: Float32Array, dimension: number, graph: boolean): void {
  if (flat.length === 0) return;
  if (hasBufferMethods(native)) return native.addBuffer(flat);
  const rows = graph ? ARRAY_GRAPH_ADD_ROWS : Math.max(1, Math.floor(ARRAY_ADD_CHUNK_FLOATS / dimension));
  const chunk = rows * dimension;
  for (let start = 0; start < flat.length; start += chunk) {
    native.add(Array.from(flat.subarray(start, Math.min(start + chunk, flat.length))));
  }
}

/**
 * `addRows` with faiss's add on a worker thread when the addon has addBufferAsync; `flat`
 * must then stay unchanged until it settles. Otherwise the synchronous add.
 */
export async function addRowsAsync(
  native: Index,
  flat: Float32Array,
  dimension: number,
  graph: boolean,
): Promise<void> {
  if (flat.length === 0) return;
  if (hasAsyncAdd(native)) return native.addBufferAsync(flat);
  addRows(native, flat, dimension, graph);
}

export function trainRows(native: Index, flat: Float32Array): void {
  if (hasBufferMethods(native)) native.trainBuffer(flat);
  else native.train(Array.from(flat));
}

/** The `k` nearest rows to each query laid end to end. `k` must not exceed the index's size (faiss-node's array path refuses it). */
export function searchRows(native: Index, queries: Float32Array, k: number): NativeHits {
  if (hasBufferMethods(native)) return native.searchBuffer(queries, k);
  return native.search(Array.from(queries), k);
}
