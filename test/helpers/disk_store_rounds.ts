/**
 * A deterministic history of adds, upserts and deletes for stores with `vectorsOnDisk`:
 * the kill-during-save test replays it in a child process and checks a loaded store
 * against `expectedAfter(round)`.
 */
import type { ImageFaissStore } from "../../src/index.js";
import { clusteredVectors, documentsFor } from "./vectors.js";

export const ROUND_ROWS = 2_000;
export const ROUND_DIM = 64;

/** Round r: adds `r<r>-0..1999`, re-adds (upserts) `r0-0..9` with new vectors, and every third round deletes the previous round. */
export async function applyRound(store: ImageFaissStore, round: number): Promise<void> {
  const vectors = clusteredVectors(ROUND_ROWS, ROUND_DIM, round + 1);
  const { documents, ids } = documentsFor(vectors, `r${round}-`);
  await store.addVectors(vectors, documents, { ids });
  if (round > 0) {
    const upserts = clusteredVectors(10, ROUND_DIM, 1_000 + round);
    const { documents: docs, ids: upsertIds } = documentsFor(upserts, "r0-");
    await store.addVectors(upserts, docs, { ids: upsertIds });
  }
  if (round % 3 === 2) await store.delete({ ids: documentsFor(vectors, `r${round - 1}-`).ids });
}

/** Each live id with its vector (before normalisation) after rounds 0..round. */
export function expectedAfter(round: number): Map<string, number[]> {
  const live = new Map<string, number[]>();
  for (let r = 0; r <= round; r++) {
    clusteredVectors(ROUND_ROWS, ROUND_DIM, r + 1).forEach((v, i) => live.set(`r${r}-${i}`, v));
    if (r > 0) clusteredVectors(10, ROUND_DIM, 1_000 + r).forEach((v, i) => live.set(`r0-${i}`, v));
    if (r % 3 === 2) for (let i = 0; i < ROUND_ROWS; i++) live.delete(`r${r - 1}-${i}`);
  }
  return live;
}

/** The last round a store holds: the highest `r<n>-` prefix among its ids. */
export function lastRound(store: ImageFaissStore): number {
  let last = -1;
  for (const { id } of store.entries()) last = Math.max(last, Number(/^r(\d+)-/.exec(id)![1]));
  return last;
}
