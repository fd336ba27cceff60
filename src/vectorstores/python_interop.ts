/**
 * Reads the vectors out of a flat faiss index written by LangChain Python
 * (`FAISS.save_local` writes `IndexFlatL2`, or `IndexFlatIP` for MAX_INNER_PRODUCT).
 * faiss-node cannot read vectors back from an index, and the store keeps its own copy.
 *
 * Layout (faiss `write_index`): fourcc(4) d(int32) ntotal(int64) dummy(int64) dummy(int64)
 * is_trained(uint8) metric_type(int32) [metric_arg(float32) when metric_type > 1],
 * then the codes as a size-prefixed vector of float32 (`WRITEXBVECTOR`).
 */
import type { DistanceMetric } from "./faiss_index.js";

export function readPythonFlatIndex(bytes: Buffer): {
  metric: DistanceMetric;
  dimension: number;
  vectors: Float32Array;
} {
  const fourcc = bytes.toString("latin1", 0, 4);
  if (fourcc !== "IxF2" && fourcc !== "IxFI") {
    throw new Error(
      `index.faiss is a "${fourcc}" index; only flat indexes (IndexFlatL2 "IxF2", IndexFlatIP "IxFI") written by LangChain Python are supported`,
    );
  }
  const dimension = bytes.readInt32LE(4);
  const ntotal = Number(bytes.readBigInt64LE(8));
  const metricType = bytes.readInt32LE(33);
  let offset = 37 + (metricType > 1 ? 4 : 0);
  const declared = Number(bytes.readBigUInt64LE(offset));
  offset += 8;
  const floats = ntotal * dimension;
  // Older faiss wrote a float count, newer ones a byte count; both are accepted.
  if (declared !== floats && declared !== floats * 4) {
    throw new Error(
      `index.faiss is inconsistent: ${ntotal} vectors of ${dimension} dimensions but ${declared} stored values`,
    );
  }
  if (bytes.length < offset + floats * 4) throw new Error("index.faiss is truncated");
  const vectors = new Float32Array(floats);
  new Uint8Array(vectors.buffer).set(bytes.subarray(offset, offset + floats * 4));
  return { metric: fourcc === "IxFI" ? "cosine" : "l2", dimension, vectors };
}
