/**
 * How many threads onnxruntime should compute with: one per physical core this process
 * may run on. onnxruntime's own default gave one thread on this project's 2-core CI
 * machine (ViT-B/32 fp32: 17 images/s, against 24 with two threads), so ImageEmbeddings
 * asks explicitly. Hyper-threads share their core's FMA units, and matrix products gain
 * nothing from them, so on Linux siblings count once; elsewhere every logical CPU counts.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

export function physicalCoreCount(): number {
  const logical = availableParallelism();
  if (process.platform !== "linux") return logical;
  try {
    const allowed = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (!allowed) return logical;
    const cores = new Set(
      cpuList(allowed).map((cpu) =>
        readFileSync(`/sys/devices/system/cpu/cpu${cpu}/topology/thread_siblings_list`, "utf8").trim(),
      ),
    );
    return Math.max(1, Math.min(logical, cores.size));
  } catch {
    return logical; // no sysfs topology (some containers): count logical CPUs
  }
}

/** "0-3,8,10-11" → [0, 1, 2, 3, 8, 10, 11] (the kernel's cpulist format). */
export function cpuList(text: string): number[] {
  return text.split(",").flatMap((part) => {
    const [first, last = first] = part.trim().split("-").map(Number);
    return Array.from({ length: last - first + 1 }, (_, i) => first + i);
  });
}
