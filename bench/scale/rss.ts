/**
 * Resident memory of this process from /proc/self/status: VmRSS (now) and VmHWM (the
 * kernel's record of the peak), plus a sampler on its own thread, which keeps reading
 * while the main thread is blocked inside a long native call (an HNSW insert, a k-means
 * training), when no timer of the main thread could fire.
 */
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";

export interface Rss {
  /** Resident set size now, MB. */
  vmRssMb: number;
  /** The peak resident set size of the process so far, MB. */
  vmHwmMb: number;
}

/** The kB values of /proc/self/status's VmRSS and VmHWM, in MB (NaN where the file has no such line). */
export function parseProcStatus(status: string): Rss {
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status)?.[1] ?? NaN);
  return { vmRssMb: kb("VmRSS") / 1024, vmHwmMb: kb("VmHWM") / 1024 };
}

export function readRss(): Rss {
  return parseProcStatus(readFileSync("/proc/self/status", "utf8"));
}

/**
 * Samples VmRSS every `intervalMs` on a worker thread (the same process, so the same
 * /proc/self/status) and keeps the highest value. `stop` returns it in MB.
 */
export class RssSampler {
  private readonly worker: Worker;
  private readonly shared = new Int32Array(new SharedArrayBuffer(4));

  constructor(intervalMs = 100) {
    // Plain JS on purpose: a worker started from a string needs no loader for TypeScript.
    this.worker = new Worker(
      `const { workerData } = require("node:worker_threads");
       const { readFileSync } = require("node:fs");
       const max = workerData.max;
       const sample = () => {
         const m = /^VmRSS:\\s+(\\d+)\\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"));
         if (m) Atomics.store(max, 0, Math.max(Atomics.load(max, 0), Number(m[1])));
       };
       sample();
       setInterval(sample, workerData.intervalMs);`,
      { eval: true, workerData: { max: this.shared, intervalMs } },
    );
    this.worker.unref();
  }

  /** The highest VmRSS sampled so far, MB. */
  get maxMb(): number {
    return Atomics.load(this.shared, 0) / 1024;
  }

  async stop(): Promise<number> {
    const max = this.maxMb;
    await this.worker.terminate();
    return max;
  }
}
