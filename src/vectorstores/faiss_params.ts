/**
 * Writes search parameters into a serialised faiss index, because faiss-node has no
 * ParameterSpace. Offsets follow faiss' `write_index` (stable since faiss 1.5):
 *
 * index header: fourcc(4) d(int32) ntotal(int64) dummy(int64) dummy(int64)
 *               is_trained(uint8) metric_type(int32) [metric_arg(float32) if metric_type > 1]
 * IVF ("Iw.."): header, nlist(uint64), nprobe(uint64), ...
 * HNSW ("IHN."): header, then the vectors assign_probas(f64) cum_nneighbor_per_level(i32)
 *               levels(i32) offsets(u64) neighbors(i32), each as count(uint64) + items,
 *               then entry_point(i32) max_level(i32) efConstruction(i32) efSearch(i32) ...
 *
 * Indexes wrapped in something else (e.g. an OPQ pre-transform) are left as they are.
 */

export interface SearchTuning {
  /** HNSW: candidates kept while searching (faiss' default is 16). */
  efSearch: number;
  /** HNSW: candidates kept while inserting (faiss' default is 40); only applies to an empty index. */
  efConstruction: number;
  /** IVF: lists visited per query (faiss' default is 1). */
  nprobe: number;
}

/** Patches `bytes` in place; returns whether anything changed. */
export function writeSearchParams(bytes: Buffer, tuning: SearchTuning): boolean {
  if (bytes.length < 37) return false;
  const fourcc = bytes.toString("latin1", 0, 4);
  const afterHeader = 37 + (bytes.readInt32LE(33) > 1 ? 4 : 0);
  if (fourcc.startsWith("Iw")) {
    const nlist = bytes.readBigUInt64LE(afterHeader);
    const nprobe = BigInt(Math.min(tuning.nprobe, Number(nlist)));
    if (bytes.readBigUInt64LE(afterHeader + 8) === nprobe) return false;
    bytes.writeBigUInt64LE(nprobe, afterHeader + 8);
    return true;
  }
  if (fourcc.startsWith("IHN")) {
    let offset = afterHeader;
    for (const itemSize of [8, 4, 4, 8, 4]) offset += 8 + Number(bytes.readBigUInt64LE(offset)) * itemSize;
    const efConstructionAt = offset + 8;
    const efSearchAt = offset + 12;
    const empty = bytes.readBigInt64LE(8) === 0n;
    if (bytes.readInt32LE(efSearchAt) === tuning.efSearch && (!empty || bytes.readInt32LE(efConstructionAt) === tuning.efConstruction)) {
      return false;
    }
    bytes.writeInt32LE(tuning.efSearch, efSearchAt);
    if (empty) bytes.writeInt32LE(tuning.efConstruction, efConstructionAt);
    return true;
  }
  return false;
}
