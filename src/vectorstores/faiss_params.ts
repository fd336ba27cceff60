/**
 * Search and build parameters of a faiss index (nprobe, efSearch, efConstruction), set and
 * read in one of two ways:
 *
 * 1. Through our addon's `setParameter`/`getParameter` (scripts/faiss-node/buffer-methods.cc),
 *    which use faiss' ParameterSpace: it reaches the IVF inside an OPQ pre-transform, and HNSW
 *    over any storage (SQ8, PQ). faiss writes these parameters into a saved index.
 * 2. For faiss-node's prebuilt binary, which has neither, by patching the serialised index.
 *    Offsets follow faiss' `write_index` (stable since faiss 1.5):
 *
 * index header: fourcc(4) d(int32) ntotal(int64) dummy(int64) dummy(int64)
 *               is_trained(uint8) metric_type(int32) [metric_arg(float32) if metric_type > 1]
 * IVF ("Iw.."): header, nlist(uint64), nprobe(uint64), ...
 * HNSW ("IHN."): header, then the vectors assign_probas(f64) cum_nneighbor_per_level(i32)
 *               levels(i32) offsets(u64) neighbors(i32), each as count(uint64) + items,
 *               then entry_point(i32) max_level(i32) efConstruction(i32) efSearch(i32) ...
 *
 *    Indexes wrapped in something else (e.g. an OPQ pre-transform) are left as they are there:
 *    the IVF inside keeps faiss' default nprobe of 1.
 */
import type { Index } from "faiss-node";

export interface SearchTuning {
  /** HNSW: candidates kept while searching (faiss' default is 16). */
  efSearch: number;
  /** HNSW: candidates kept while inserting (faiss' default is 40); only applies to an empty index. */
  efConstruction: number;
  /** IVF: lists visited per query (faiss' default is 1). */
  nprobe: number;
}

/** Reads `length` bytes at `offset` of a serialised index (from memory or from a file). */
export type ReadAt = (offset: number, length: number) => Buffer;

/** A write that puts one parameter into a serialised index. */
export interface Patch {
  offset: number;
  bytes: Buffer;
}

/** Where each search parameter sits in a serialised index, with its current value. */
interface Slot {
  name: keyof SearchTuning;
  offset: number;
  value: number;
  size: 4 | 8;
}

/**
 * The search parameters the index serialised in `read` (of `size` bytes) holds. Only a
 * few header fields are read, so a saved index of gigabytes is not read whole.
 */
function slots(read: ReadAt, size: number): Slot[] {
  if (size < 37) return [];
  const fourcc = read(0, 4).toString("latin1");
  const afterHeader = 37 + (read(33, 4).readInt32LE(0) > 1 ? 4 : 0);
  if (fourcc.startsWith("Iw")) {
    const nprobeAt = afterHeader + 8;
    return [{ name: "nprobe", offset: nprobeAt, value: Number(read(nprobeAt, 8).readBigUInt64LE(0)), size: 8 }];
  }
  if (fourcc.startsWith("IHN")) {
    let offset = afterHeader;
    for (const itemSize of [8, 4, 4, 8, 4]) offset += 8 + Number(read(offset, 8).readBigUInt64LE(0)) * itemSize;
    const found: Slot[] = [
      { name: "efSearch", offset: offset + 12, value: read(offset + 12, 4).readInt32LE(0), size: 4 },
    ];
    // efConstruction only shapes vectors still to come; an index that has some keeps the one it was built with.
    if (read(8, 8).readBigInt64LE(0) === 0n)
      found.push({ name: "efConstruction", offset: offset + 8, value: read(offset + 8, 4).readInt32LE(0), size: 4 });
    return found;
  }
  return [];
}

/** The search parameters a serialised index holds (none for index types without any). */
export function readSearchParams(read: ReadAt, size: number): Partial<SearchTuning> {
  return Object.fromEntries(slots(read, size).map((slot) => [slot.name, slot.value]));
}

/**
 * The writes that give a serialised index the parameters in `tuning`; none when it has
 * them already. Parameters left out of `tuning` keep their saved values. IVF's nprobe
 * is capped at its number of lists.
 */
export function searchParamPatches(read: ReadAt, size: number, tuning: Partial<SearchTuning>): Patch[] {
  const patches: Patch[] = [];
  for (const slot of slots(read, size)) {
    let wanted = tuning[slot.name];
    if (wanted === undefined) continue;
    if (slot.name === "nprobe") wanted = Math.min(wanted, Number(read(slot.offset - 8, 8).readBigUInt64LE(0)));
    if (wanted === slot.value) continue;
    const bytes = Buffer.alloc(slot.size);
    if (slot.size === 8) bytes.writeBigUInt64LE(BigInt(wanted));
    else bytes.writeInt32LE(wanted);
    patches.push({ offset: slot.offset, bytes });
  }
  return patches;
}

/** Patches `bytes` in place; returns whether anything changed. */
export function writeSearchParams(bytes: Buffer, tuning: Partial<SearchTuning>): boolean {
  const patches = searchParamPatches((offset, length) => bytes.subarray(offset, offset + length), bytes.length, tuning);
  for (const { offset, bytes: value } of patches) value.copy(bytes, offset);
  return patches.length > 0;
}

/** The parameter methods of an addon built by our install script (scripts/faiss-node/buffer-methods.cc). */
export interface ParameterMethods {
  /** Sets a parameter through faiss' ParameterSpace; throws when the index has no such parameter. */
  setParameter(name: string, value: number): void;
  /** A parameter wherever `setParameter` would find it ("nlist" too), or null when the index has none. */
  getParameter(name: string): number | null;
}

export function hasParameterMethods(native: Index): native is Index & ParameterMethods {
  const methods = native as Partial<ParameterMethods>;
  return typeof methods.setParameter === "function" && typeof methods.getParameter === "function";
}

const TUNING_NAMES = ["efSearch", "efConstruction", "nprobe"] as const;

/** The parameters of `tuning` the index has, read through the addon. */
export function heldParams(native: ParameterMethods): Partial<SearchTuning> {
  const held: Partial<SearchTuning> = {};
  for (const name of TUNING_NAMES) {
    const value = native.getParameter(name);
    if (value !== null) held[name] = value;
  }
  return held;
}

/**
 * Gives the index those parameters of `tuning` that it has, through the addon; IVF's
 * nprobe is capped at its number of lists, as faiss caps it when searching.
 */
export function applyParams(native: ParameterMethods, tuning: Partial<SearchTuning>): void {
  for (const name of TUNING_NAMES) {
    const wanted = tuning[name];
    const current = native.getParameter(name);
    if (wanted === undefined || current === null) continue;
    const value = name === "nprobe" ? Math.min(wanted, native.getParameter("nlist") ?? wanted) : wanted;
    if (value !== current) native.setParameter(name, value);
  }
}
