/** Pooling on hand-computable backbone outputs: CLS, mean, max and attention, tokens and feature maps. */
import { describe, expect, it } from "vitest";
import { pool } from "../../src/encoders/pooling.js";

// One image, a CLS token and three patch tokens of 2 features.
const tokens = {
  kind: "tokens" as const,
  data: [9, 9, 1, 2, 3, 0, 2, 4],
  dims: [1, 4, 2] as [number, number, number],
  hasClsToken: true,
};
// One image, 2 channels over a 1×3 map: channel 0 = [1, 3, 2], channel 1 = [2, 0, 4] (the same patches as above).
const featureMap = {
  kind: "feature-map" as const,
  data: [1, 3, 2, 2, 0, 4],
  dims: [1, 2, 1, 3] as [number, number, number, number],
};

const close = (actual: Float32Array, expected: number[]) =>
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, 5));

describe("pooling", () => {
  it("cls takes the first token", () => {
    close(pool(tokens, "cls").data, [9, 9]);
  });

  it("mean and max pool the patch tokens, without the CLS token", () => {
    close(pool(tokens, "mean").data, [2, 2]);
    close(pool(tokens, "max").data, [3, 4]);
  });

  it("mean (global average) and max pool a CNN feature map over its positions", () => {
    close(pool(featureMap, "mean").data, [2, 2]);
    close(pool(featureMap, "max").data, [3, 4]);
  });

  it("attention weighs tokens by softmax(w·F/√d), with given weights or the mean token", () => {
    // w = [1, 0]: scores 1, 3, 2 over √2; weights softmax([1,3,2]/√2).
    const e = [1, 3, 2].map((s) => Math.exp(s / Math.SQRT2));
    const a = e.map((x) => x / (e[0] + e[1] + e[2]));
    const expected = [a[0] * 1 + a[1] * 3 + a[2] * 2, a[0] * 2 + a[1] * 0 + a[2] * 4];
    close(pool(tokens, "attention", { attentionWeights: [1, 0] }).data, expected);
    close(pool(featureMap, "attention", { attentionWeights: [1, 0] }).data, expected);
    // Default w = mean token [2, 2]: scores (2·F1 + 2·F2)/√2 = 6/√2, 6/√2, 12/√2.
    const e2 = [6, 6, 12].map((s) => Math.exp(s / Math.SQRT2));
    const b = e2.map((x) => x / (e2[0] + e2[1] + e2[2]));
    close(pool(tokens, "attention").data, [b[0] * 1 + b[1] * 3 + b[2] * 2, b[0] * 2 + b[1] * 0 + b[2] * 4]);
  });

  it("pools each image of a batch on its own", () => {
    const two = {
      ...tokens,
      data: [...tokens.data, 0, 0, 1, 1, 1, 1, 1, 1],
      dims: [2, 4, 2] as [number, number, number],
    };
    const { data, batch, dim } = pool(two, "mean");
    expect([batch, dim]).toEqual([2, 2]);
    close(data, [2, 2, 1, 1]);
  });

  it("refuses pooling that makes no sense for the architecture, and bad shapes", () => {
    expect(() => pool(featureMap, "cls")).toThrow(
      /cls pooling makes no sense for a CNN: .* Use mean \(global average\), max or attention/,
    );
    expect(() => pool({ ...tokens, hasClsToken: false }, "cls")).toThrow(/needs a CLS token/);
    expect(() => pool(tokens, "sum" as never)).toThrow(
      /Expected one of cls, mean, max, attention for pooling but received "sum"/,
    );
    expect(() => pool({ ...tokens, data: [1, 2, 3] }, "mean")).toThrow(/has 3 values, expected 8/);
    expect(() => pool(tokens, "attention", { attentionWeights: [1] })).toThrow(
      /attentionWeights has 1 values but the features have 2/,
    );
  });
});
