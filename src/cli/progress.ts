/**
 * Progress of a long run on stderr: a redrawn bar with count, rate and ETA when
 * stderr is a terminal, plain lines at an interval otherwise (logs, CI, pipes), so
 * that a log file gets readable lines instead of carriage returns and escape codes.
 */
import cliProgress from "cli-progress";
import type { IndexProgress } from "../indexer/index_summary.js";

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export interface ProgressOptions {
  total: number;
  /** What is counted, e.g. "images". */
  unit: string;
  stream?: NodeJS.WriteStream;
  /** Draw a bar (default: when the stream is a TTY). */
  tty?: boolean;
  /** Plain mode: at most one line per this many ms, plus the first and last. Default: 5000. */
  intervalMs?: number;
}

export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const started = performance.now();
  const rate = (done: number) => done / Math.max((performance.now() - started) / 1000, 1e-3);
  const eta = (done: number) => {
    if (done >= options.total) return "0s";
    const r = rate(done);
    return r > 0 ? formatDuration((options.total - done) / r) : "?";
  };

  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `{bar} {percentage}% | {value}/{total} ${options.unit} | {rate} ${options.unit}/s | ETA {etaText}`,
        barsize: 30,
        hideCursor: true,
        fps: 5,
        // Inference blocks the event loop, so redraw on every update rather than on a timer only.
        synchronousUpdate: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.total, 0, { rate: "0.0", etaText: "?" });
    return {
      update: (done) => bar.update(done, { rate: rate(done).toFixed(1), etaText: eta(done) }),
      stop: () => bar.stop(),
    };
  }

  const interval = options.intervalMs ?? 5_000;
  let last = -Infinity;
  let lastDone = -1;
  let current = 0;
  const line = (done: number) => {
    const percent = options.total === 0 ? 100 : Math.floor((100 * done) / options.total);
    stream.write(
      `progress: ${done}/${options.total} ${options.unit} (${percent}%) | ${rate(done).toFixed(1)} ${options.unit}/s | ETA ${eta(done)}\n`,
    );
    last = performance.now();
    lastDone = done;
  };
  return {
    update: (done) => {
      current = done;
      if (lastDone < 0 || performance.now() - last >= interval || done >= options.total) line(done);
    },
    stop: () => {
      if (lastDone >= 0 && lastDone !== current) line(current);
    },
  };
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * What `index` shows while it runs, local or queued: one line once the folders are
 * scanned (`scanLine`), then a progress bar over the files to read, when `bar` is set.
 */
export function indexProgressReporter(
  log: (line: string) => void,
  scanLine: (p: IndexProgress) => string,
  bar: { show: boolean; intervalSeconds: number },
): { onProgress: (p: IndexProgress) => void; stop: () => void } {
  let progress: Progress | undefined;
  return {
    onProgress(p) {
      if (p.phase === "scanned") {
        log(scanLine(p));
        if (bar.show && p.total > 0) {
          progress = startProgress({ total: p.total, unit: "images", intervalMs: bar.intervalSeconds * 1000 });
        }
      } else if (p.phase === "indexing") {
        progress?.update(p.done);
      } else {
        progress?.stop();
      }
    },
    stop: () => progress?.stop(),
  };
}
