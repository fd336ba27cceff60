/**
 * The faiss-node addon this project built: with faiss's distance kernels compiled for
 * this CPU when it has AVX2 (scripts/faiss-node/simd-kernels.mjs), and those kernels
 * giving the same distances as plain arithmetic.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadFaiss } from "../../src/utils/imports.js";
import { ROOT } from "../helpers/fixtures.js";
import { rng } from "../helpers/shapes.js";

const faissNodeDir = dirname(createRequire(join(ROOT, "package.json")).resolve("faiss-node/package.json"));
const record = join(faissNodeDir, "build", "Release", "faiss-kernels.json");

describe("faiss-node's distance kernels", () => {
  it("are this CPU's when the addon was built here against a static libfaiss", () => {
    // Where the addon came from elsewhere (faiss-node's prebuilt binary) there is no record.
    if (!existsSync(join(faissNodeDir, "faiss-compat.h"))) return expect(existsSync(record)).toBe(false);
    const built = JSON.parse(readFileSync(record, "utf8")) as { kernels: string; lib: string; why?: string };
    const unsupported = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "const m = await import('./scripts/faiss-node/simd-kernels.mjs'); console.log(JSON.stringify(m.cpuUnsupported()))",
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    const cpuCanRunThem = JSON.parse(unsupported) === null && built.lib.endsWith(".a");
    expect({ kernels: built.kernels, why: built.why }).toEqual(
      cpuCanRunThem ? { kernels: "avx2", why: undefined } : expect.objectContaining({ kernels: "generic" }),
    );
  });

  it("give the inner products and squared L2 distances of plain arithmetic", async () => {
    const { IndexFlatIP, IndexFlatL2 } = await loadFaiss();
    const random = rng(3);
    // 515 dimensions: whole AVX registers and a remainder the kernels handle separately.
    const d = 515;
    const rows = Array.from({ length: 300 }, () => Array.from({ length: d }, () => random() * 2 - 1));
    const query = Array.from({ length: d }, () => random() * 2 - 1);
    const ip = new IndexFlatIP(d);
    const l2 = new IndexFlatL2(d);
    ip.add(rows.flat());
    l2.add(rows.flat());
    const exactIp = rows.map((r) => r.reduce((s, x, j) => s + Math.fround(x) * Math.fround(query[j]), 0));
    const exactL2 = rows.map((r) => r.reduce((s, x, j) => s + (Math.fround(x) - Math.fround(query[j])) ** 2, 0));
    const byIp = ip.search(query, rows.length);
    const byL2 = l2.search(query, rows.length);
    byIp.labels.forEach((row, i) => expect(byIp.distances[i]).toBeCloseTo(exactIp[row], 3));
    byL2.labels.forEach((row, i) => expect(byL2.distances[i]).toBeCloseTo(exactL2[row], 2));
    // Ranked as the exact values rank them.
    expect(byIp.labels.slice(0, 10)).toEqual([...exactIp.keys()].sort((a, b) => exactIp[b] - exactIp[a]).slice(0, 10));
    expect(byL2.labels.slice(0, 10)).toEqual([...exactL2.keys()].sort((a, b) => exactL2[a] - exactL2[b]).slice(0, 10));
  });
});
