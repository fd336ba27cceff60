/**
 * Runs a child process without blocking this one. Tests that wait on a child for many
 * seconds must not use spawnSync: it stops the test worker's event loop, so vitest's own
 * messages to the worker time out ("Timeout calling onTaskUpdate") on a loaded machine.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./fixtures.js";

export interface ProcessResult {
  /** The command line, for messages. */
  command: string;
  /** The exit code, or null when a signal ended the process. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunProcessOptions {
  /** Default: the repository root. */
  cwd?: string;
  /** The whole environment of the child. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Kills the child (SIGKILL) after this long. Default: 2 minutes. */
  timeoutMs?: number;
}

/** Runs `command` to completion and collects its output; never rejects for a non-zero exit. */
export function runProcess(command: string, args: string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 120_000,
      killSignal: "SIGKILL",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status, signal) =>
      resolve({ command: [command, ...args].join(" "), status, signal, stdout, stderr }),
    );
  });
}

/** Runs a TypeScript file of this repository with tsx in a fresh Node process. */
export function runTsx(script: string, args: string[] = [], options: RunProcessOptions = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), script, ...args], options);
}

/**
 * Stops a server child: SIGTERM, then SIGKILL if it has not exited within 5 s. `exited`
 * is `once(child, "exit")`, taken when the child started so that an early exit is not missed.
 */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}
