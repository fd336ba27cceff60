/** Analytic gradients of the losses and of the projection head against central finite differences. */
import { describe, expect, it } from "vitest";
import { ProjectionHead } from "../../src/heads/projection_head.js";
import { batchHardTriplets, infoNceLoss, tripletLoss, type Triplet } from "../../src/training/losses.js";
import { rng } from "../helpers/shapes.js";

const EPS = 1e-6;

function randomRows(n: number, d: number, random: () => number, unit = true): Float64Array {
  const rows = Float64Array.from({ length: n * d }, () => random() * 2 - 1);
  if (unit) {
    for (let r = 0; r < n; r++) {
      const norm = Math.hypot(...rows.subarray(r * d, (r + 1) * d));
      for (let k = 0; k < d; k++) rows[r * d + k] /= norm;
    }
  }
  return rows;
}

/** The largest relative error between `analytic` and central differences of `f` at `x`. */
async function maxRelativeError(
  f: (x: Float64Array) => number | Promise<number>,
  x: Float64Array,
  analytic: Float64Array,
): Promise<number> {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + EPS;
    const up = await f(x);
    x[i] = keep - EPS;
    const down = await f(x);
    x[i] = keep;
    const numeric = (up - down) / (2 * EPS);
    const error = Math.abs(numeric - analytic[i]) / Math.max(Math.abs(numeric) + Math.abs(analytic[i]), 1e-7);
    worst = Math.max(worst, error);
  }
  return worst;
}

describe("gradients against finite differences (relative error <= 1e-3)", () => {
  const random = rng(11);
  const d = 6;
  const rows = randomRows(8, d, random);
  const triplets: Triplet[] = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 0],
    [1, 3, 6],
  ];

  for (const distance of ["euclidean", "cosine"] as const) {
    it(`triplet loss, ${distance} distance`, async () => {
      // A margin large enough that every triplet is active, so no hinge kink is near.
      const margin = distance === "cosine" ? 2.5 : 2.1;
      const { grad, loss } = tripletLoss(rows, d, triplets, margin, distance);
      expect(loss).toBeGreaterThan(0);
      expect(
        await maxRelativeError((x) => tripletLoss(x, d, triplets, margin, distance).loss, rows, grad),
      ).toBeLessThan(1e-3);
    });
  }

  it("triplet loss is zero, with zero gradient, when every negative is far enough", () => {
    const { loss, grad } = tripletLoss(rows, d, triplets, -10, "euclidean");
    expect(loss).toBe(0);
    expect(grad.every((g) => g === 0)).toBe(true);
  });

  for (const symmetric of [true, false]) {
    it(`InfoNCE, ${symmetric ? "symmetric" : "one direction"}, temperature 0.1`, async () => {
      const { grad, loss } = infoNceLoss(rows, d, 4, 0.1, symmetric);
      expect(loss).toBeGreaterThan(0);
      expect(await maxRelativeError((x) => infoNceLoss(x, d, 4, 0.1, symmetric).loss, rows, grad)).toBeLessThan(1e-3);
    });
  }

  // Odd and even sizes, single rows, and hidden layers wider and narrower than the input.
  for (const [kind, inputDim, hiddenDim, outputDim, rows] of [
    ["linear", 5, 0, 4, 6],
    ["mlp", 5, 7, 4, 6],
    ["mlp", 8, 12, 8, 8],
    ["mlp", 9, 6, 7, 11],
    ["mlp", 3, 4, 2, 1],
  ] as const) {
    it(`${kind} head ${inputDim}→${hiddenDim || ""}→${outputDim} on ${rows} rows (with its L2 normalisation)`, async () => {
      const head = ProjectionHead.initialised({ kind, inputDim, hiddenDim, outputDim }, rng(3));
      const x = randomRows(rows, inputDim, rng(4), false);
      const weights = randomRows(rows, outputDim, rng(5), false);
      const lossOf = async () => (await head.forward(x, rows)).z.reduce((s, z, i) => s + z * weights[i], 0);
      const grad = await head.backward(await head.forward(x, rows), weights);
      expect(await maxRelativeError(() => lossOf(), head.params, grad)).toBeLessThan(1e-3);
    });
  }

  it("computes the head's layers exactly: y = W2 relu(W1 x + b1) + b2, then y / |y|", async () => {
    const head = new ProjectionHead(
      { kind: "mlp", inputDim: 2, hiddenDim: 2, outputDim: 2 },
      Float64Array.from([1, 2, -1, 1, 0.5, -4, 3, 0, 0, 1, 1, 0]),
    );
    // hidden = relu([1*1 + 2*2 + 0.5, -1*1 + 1*2 - 4]) = relu([5.5, -3]) = [5.5, 0]; y = [3*5.5 + 1, 0 + 0] = [17.5, 0]
    expect(await head.apply([1, 2])).toEqual([1, 0]);
    const linear = new ProjectionHead(
      { kind: "linear", inputDim: 2, outputDim: 2 },
      Float64Array.from([3, 0, 0, 4, 0, 0]),
    );
    expect(await linear.apply([1, 1])).toEqual([0.6, 0.8]);
  });

  it("mlp head through batch-hard triplet and InfoNCE losses, end to end", async () => {
    const head = ProjectionHead.initialised({ kind: "mlp", inputDim: 5, hiddenDim: 8, outputDim: 4 }, rng(6));
    const x = randomRows(8, 5, rng(7), false);
    const labels = [0, 0, 1, 1, 2, 2, 3, 3];
    const cache = await head.forward(x, 8);
    const mined = batchHardTriplets(cache.z, 4, labels, "euclidean");
    expect(mined).toHaveLength(8);
    for (const [a, p, n] of mined) {
      expect(labels[p]).toBe(labels[a]);
      expect(labels[n]).not.toBe(labels[a]);
    }
    const triplet = (z: Float64Array) => tripletLoss(z, 4, mined, 3, "euclidean");
    const gradTriplet = await head.backward(cache, triplet(cache.z).grad);
    expect(
      await maxRelativeError(async () => triplet((await head.forward(x, 8)).z).loss, head.params, gradTriplet),
    ).toBeLessThan(1e-3);

    const nce = (z: Float64Array) => infoNceLoss(z, 4, 4, 0.2);
    const gradNce = await head.backward(cache, nce(cache.z).grad);
    expect(
      await maxRelativeError(async () => nce((await head.forward(x, 8)).z).loss, head.params, gradNce),
    ).toBeLessThan(1e-3);
  });
});
