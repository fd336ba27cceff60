/**
 * The scale benchmark's ground truth: the running top-k merge that keeps each query's exact
 * nearest neighbours over a stream of chunks, checked against a brute-force sort, and the
 * faiss scan that feeds it (real faiss-node) against dot products computed here.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/heads/random.js";
import { recallAtK, RunningTopK, StreamingGroundTruth } from "../../bench/scale/ground_truth.js";
import { dataChunks, queryVectors } from "../../bench/scale/dataset.js";

/** The k best ids by score (ties: the lower id, i.e. the one offered first), by sorting everything. */
function bruteForceTop(scores: number[], k: number): number[] {
  return scores
    .map((score, id) => ({ score, id }))
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k)
    .map((e) => e.id);
}

describe("RunningTopK", () => {
  it("keeps the exact top k per query whatever the chunking, against a full sort", () => {
    const random = seededRandom(7);
    const queries = 5;
    const count = 1000;
    const k = 10;
    // Scores on a coarse grid so that ties happen and their order is checked too.
    const scores = Array.from({ length: queries }, () =>
      Array.from({ length: count }, () => Math.floor(random() * 200) / 200),
    );
    for (const chunk of [1, 7, 100, 1000]) {
      const top = new RunningTopK(queries, k);
      for (let start = 0; start < count; start += chunk)
        for (let id = start; id < Math.min(count, start + chunk); id++)
          for (let q = 0; q < queries; q++) top.offer(q, id, scores[q][id]);
      for (let q = 0; q < queries; q++) {
        expect(top.idsOf(q)).toEqual(bruteForceTop(scores[q], k));
        expect(top.scoresOf(q)).toEqual(bruteForceTop(scores[q], k).map((id) => scores[q][id]));
      }
    }
  });

  it("returns fewer than k while fewer were offered, best first, and serialises to ids", () => {
    const top = new RunningTopK(2, 3);
    top.offer(0, 4, 0.5);
    top.offer(0, 9, 0.9);
    top.offer(1, 2, -0.1);
    expect(top.idsOf(0)).toEqual([9, 4]);
    expect(JSON.parse(JSON.stringify(top))).toEqual([[9, 4], [2]]);
    // A fourth, worse score leaves a full top 3 unchanged; a better one pushes the worst out.
    top.offer(0, 1, 0.7);
    top.offer(0, 3, 0.1);
    expect(top.idsOf(0)).toEqual([9, 1, 4]);
    top.offer(0, 5, 0.95);
    expect(top.idsOf(0)).toEqual([5, 9, 1]);
  });

  it("refuses a bad size with the name of the parameter", () => {
    expect(() => new RunningTopK(0, 10)).toThrow(/queries but received 0/);
    expect(() => new RunningTopK(3, 1.5)).toThrow(/k but received 1.5/);
  });
});

describe("recallAtK", () => {
  it("counts each true neighbour found once, within the first k results", () => {
    const truth = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    expect(
      recallAtK(
        [
          [1, 2, 3],
          [6, 5, 4],
        ],
        truth,
        3,
      ),
    ).toBe(1);
    expect(
      recallAtK(
        [
          [1, 1, 9],
          [7, 8, 4],
        ],
        truth,
        3,
      ),
    ).toBeCloseTo(2 / 6);
    // A true neighbour past the k-th result does not count.
    expect(
      recallAtK(
        [
          [9, 9, 9, 1],
          [4, 5, 6],
        ],
        truth,
        3,
      ),
    ).toBe(0.5);
    expect(() => recallAtK([[1]], truth, 3)).toThrow(/results for 1 queries but ground truth for 2/);
  });
});

describe("StreamingGroundTruth", () => {
  it("finds the same top 10 over streamed chunks as dot products over everything at once", async () => {
    const spec = { count: 3000, dimension: 32, clusters: 20, chunk: 700, queries: 12 };
    const queries = queryVectors(spec);
    const truth = await StreamingGroundTruth.create(queries, spec.dimension, 10);
    const all: Float32Array[] = [];
    for (const { firstId, rows } of dataChunks(spec)) {
      expect(firstId).toBe(all.length * spec.chunk);
      truth.scan(rows, firstId);
      all.push(rows);
    }
    const flat = new Float32Array(spec.count * spec.dimension);
    all.forEach((rows, i) => flat.set(rows, i * spec.chunk * spec.dimension));
    for (let q = 0; q < spec.queries; q++) {
      const query = queries.subarray(q * spec.dimension, (q + 1) * spec.dimension);
      const scores = Array.from({ length: spec.count }, (_, i) => {
        let s = 0;
        for (let j = 0; j < spec.dimension; j++) s += query[j] * flat[i * spec.dimension + j];
        return s;
      });
      const expected = bruteForceTop(scores, 10);
      // faiss sums in float32 and in its own order: the same neighbours, scores equal to float32 precision.
      expect(new Set(truth.top.idsOf(q))).toEqual(new Set(expected));
      truth.top.scoresOf(q).forEach((s, i) => expect(s).toBeCloseTo(scores[truth.top.idsOf(q)[i]], 5));
    }
  });

  it("refuses queries or chunks that are not whole rows", async () => {
    await expect(StreamingGroundTruth.create(new Float32Array(10), 4, 10)).rejects.toThrow(
      /10 floats, not a whole number of 4-d rows/,
    );
    const truth = await StreamingGroundTruth.create(new Float32Array(8).fill(0.5), 4, 1);
    expect(() => truth.scan(new Float32Array(6), 0)).toThrow(/chunk holds 6 floats/);
  });
});
