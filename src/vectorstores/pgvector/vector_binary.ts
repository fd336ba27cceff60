/**
 * pgvector's binary form of a vector (what its `vector_recv` reads): the dimension and a
 * zero as 16-bit integers, then each element as a big-endian float4. node-postgres sends a
 * Buffer parameter in binary format, so Postgres stores the floats as they are instead of
 * parsing their text: on PGlite (Postgres in WASM) parsing `[0.1,...]` took about 2 ms per
 * 512-d vector, 80-90% of an insert's time.
 */
export function toVectorBinary(vector: ArrayLike<number>): Buffer {
  const bytes = Buffer.allocUnsafe(4 + 4 * vector.length);
  bytes.writeInt16BE(vector.length, 0);
  bytes.writeInt16BE(0, 2);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatBE(vector[i], 4 + 4 * i);
  return bytes;
}
