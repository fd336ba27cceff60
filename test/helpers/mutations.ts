/**
 * Seeded mutations of valid image files for fuzzing: bit flips, byte overwrites,
 * truncation, duplicated or removed ranges, and corrupted header fields (sizes, lengths).
 */
import { seededRandom } from "../../src/heads/random.js";

export type Mutation = "flip-bits" | "overwrite" | "truncate" | "duplicate-range" | "remove-range" | "header";
const MUTATIONS: Mutation[] = ["flip-bits", "overwrite", "truncate", "duplicate-range", "remove-range", "header"];

export function mutate(original: Buffer, seed: number): { bytes: Buffer; mutation: Mutation } {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const mutation = MUTATIONS[int(MUTATIONS.length)];
  const bytes = Buffer.from(original);
  switch (mutation) {
    case "flip-bits":
      for (let k = 1 + int(16); k > 0; k--) bytes[int(bytes.length)] ^= 1 << int(8);
      return { bytes, mutation };
    case "overwrite": {
      const at = int(bytes.length);
      for (let k = 0; k < 1 + int(64) && at + k < bytes.length; k++) bytes[at + k] = int(256);
      return { bytes, mutation };
    }
    case "truncate":
      return { bytes: bytes.subarray(0, int(bytes.length)), mutation };
    case "duplicate-range": {
      const at = int(bytes.length);
      const len = 1 + int(512);
      return { bytes: Buffer.concat([bytes.subarray(0, at + len), bytes.subarray(at)]), mutation };
    }
    case "remove-range": {
      const at = int(bytes.length);
      return { bytes: Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(512))]), mutation };
    }
    case "header":
      // The first 64 bytes hold the signature, dimensions and first chunk lengths of all three formats.
      for (let k = 1 + int(4); k > 0; k--)
        bytes[int(Math.min(64, bytes.length))] = [0, 0xff, 0x7f, 0x80, int(256)][int(5)];
      return { bytes, mutation };
  }
}
