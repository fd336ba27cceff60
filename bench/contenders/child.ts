/**
 * The contract between bench/run.ts and a contender child process: JSON on stdin (an
 * argument would be capped at 128 KiB, less than 5,000 image paths), one JSON line out.
 */
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

export function readArgs<T>(): T {
  return JSON.parse(readFileSync(0, "utf8")) as T;
}

export function report(result: Record<string, unknown>): void {
  process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`);
}

/** Runs `work`, timing it and recording the event-loop delay (ms), peak RSS (MB) and CPU time (s) meanwhile. */
export async function measure<T>(work: () => Promise<T>) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  const value = await work();
  const seconds = (performance.now() - start) / 1000;
  // User + system time of every thread of the process: what the work cost, however busy the machine was.
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  return {
    value,
    seconds,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    loopDelayMaxMs: delay.max / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
