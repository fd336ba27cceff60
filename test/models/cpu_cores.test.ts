/** The thread count ImageEmbeddings gives onnxruntime by default. */
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { cpuList, physicalCoreCount } from "../../src/models/cpu_cores.js";

describe("physical cores", () => {
  it("reads the kernel's cpulist format", () => {
    expect(cpuList("0-3,8,10-11")).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(cpuList("5")).toEqual([5]);
  });

  it("counts at least one core and no more than the CPUs this process may use", () => {
    const cores = physicalCoreCount();
    expect(Number.isInteger(cores)).toBe(true);
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(availableParallelism());
  });
});
