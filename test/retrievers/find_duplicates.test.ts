/** findDuplicates on hand-made and random vectors (no model). */
import { describe, expect, it } from "vitest";
import { findDuplicates } from "../../src/retrievers/find_duplicates.js";
import { rng } from "../helpers/shapes.js";

/** A random vector, and copies of it nudged by `noise` (cosine stays near 1). */
function randomVector(random: () => number, dim: number): number[] {
  return Array.from({ length: dim }, () => random() - 0.5);
}
function nudge(random: () => number, v: number[], noise: number): number[] {
  return v.map((x) => x + (random() - 0.5) * noise);
}

describe("findDuplicates", () => {
  it("groups connected pairs, sorts members by id and groups by size", () => {
    const groups = findDuplicates(
      [
        { id: "c", vector: [1, 0, 0] },
        { id: "a", vector: [0.99, 0.01, 0], doc: { path: "a.png" } },
        { id: "x", vector: [0, 1, 0] },
        { id: "y", vector: [0, 2, 0.01] }, // length does not matter: cosine
        { id: "b", vector: [1, 0.001, 0] },
        { id: "lonely", vector: [0, 0, 1] },
      ],
      0.99,
    );
    expect(groups.map((g) => g.items.map((i) => i.id))).toEqual([
      ["a", "b", "c"],
      ["x", "y"],
    ]);
    expect(groups[0].items[0]).toEqual({ id: "a", doc: { path: "a.png" } });
    expect(groups[0].items[1]).toEqual({ id: "b" });
    expect(groups[0].maxSimilarity).toBeCloseTo(1, 5);
    expect(groups[0].minSimilarity).toBeGreaterThanOrEqual(0.99);
    expect(groups[1].minSimilarity).toBeCloseTo(groups[1].maxSimilarity, 9);
  });

  it("is transitive: a chain of close pairs is one group", () => {
    const at = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
    // cos(5°) = 0.9962 between neighbours; the ends are 10° apart (0.985), below the threshold.
    const groups = findDuplicates(
      [
        { id: "0", vector: at(0) },
        { id: "1", vector: at(5) },
        { id: "2", vector: at(10) },
      ],
      0.99,
    );
    expect(groups.map((g) => g.items.map((i) => i.id))).toEqual([["0", "1", "2"]]);
    expect(groups[0].minSimilarity).toBeCloseTo(Math.cos((5 * Math.PI) / 180), 6);
  });

  it("includes pairs exactly at the threshold", () => {
    const groups = findDuplicates(
      [
        { id: "a", vector: [1, 0] },
        { id: "b", vector: [1, 0] },
      ],
      1,
    );
    expect(groups).toHaveLength(1);
  });

  it("finds exactly the planted groups among random vectors across block boundaries", () => {
    const random = rng(42);
    const dim = 37; // not a multiple of 4: exercises the remainder loop
    const items: { id: string; vector: number[] }[] = [];
    for (let i = 0; i < 300; i++)
      items.push({ id: `r${String(i).padStart(3, "0")}`, vector: randomVector(random, dim) });
    // Plant groups whose members lie in different 64-row blocks.
    const planted = [
      [5, 70, 200, 299],
      [10, 11],
      [130, 260],
    ];
    for (const members of planted) {
      const base = items[members[0]].vector;
      for (const m of members.slice(1)) items[m] = { id: items[m].id, vector: nudge(random, base, 0.01) };
    }
    const groups = findDuplicates(items, 0.99);
    expect(groups.map((g) => g.items.map((i) => i.id))).toEqual(
      planted.map((members) => members.map((m) => items[m].id).sort()),
    );
  });

  it("returns nothing for fewer than two items or no close pairs", () => {
    expect(findDuplicates([], 0.9)).toEqual([]);
    expect(findDuplicates([{ id: "a", vector: [1, 0] }], 0.9)).toEqual([]);
    expect(
      findDuplicates(
        [
          { id: "a", vector: [1, 0] },
          { id: "b", vector: [0, 1] },
        ],
        0.9,
      ),
    ).toEqual([]);
  });

  it("accepts Float32Array vectors and treats zero vectors as unlike everything", () => {
    const groups = findDuplicates(
      [
        { id: "a", vector: new Float32Array([1, 2]) },
        { id: "b", vector: new Float32Array([2, 4]) },
        { id: "z", vector: new Float32Array([0, 0]) },
        { id: "z2", vector: new Float32Array([0, 0]) },
      ],
      0.5,
    );
    expect(groups.map((g) => g.items.map((i) => i.id))).toEqual([["a", "b"]]);
  });

  it.each([
    [
      [
        { id: "a", vector: [1] },
        { id: "b", vector: [1] },
      ],
      1.5,
      "Expected a cosine similarity above -1 and at most 1 for threshold but received 1.5",
    ],
    [
      [
        { id: "a", vector: [1] },
        { id: "b", vector: [1] },
      ],
      Number.NaN,
      "threshold but received NaN",
    ],
    [
      [
        { id: "a", vector: [1, 0] },
        { id: "b", vector: [1] },
      ],
      0.9,
      "Expected 2 dimensions for items[1].vector (like items[0]) but received 1",
    ],
    [
      [
        { id: "a", vector: [1] },
        { id: "a", vector: [1] },
      ],
      0.9,
      'Duplicate id "a" at items[1]: ids must be unique',
    ],
    [
      [
        { id: "a", vector: [1] },
        { id: 3, vector: [1] },
      ],
      0.9,
      "Expected a string for items[1].id but received number",
    ],
    [
      [
        { id: "a", vector: [] },
        { id: "b", vector: [] },
      ],
      0.9,
      "Expected a non-empty vector for items[0].vector",
    ],
  ])("rejects bad input %#", (items, threshold, message) => {
    expect(() => findDuplicates(items as never, threshold)).toThrow(message);
  });
});
