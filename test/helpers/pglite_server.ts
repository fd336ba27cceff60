/**
 * Starts a real Postgres with pgvector for a test: PGlite served over the wire protocol by
 * `PGLiteSocketServer`, in a child process (pglite_server.mjs), on 127.0.0.1 and a free port.
 *
 * PGlite's limits (see /docs/architecture.md): all connections share one session, so
 * queries run one at a time and a `SET` made on one connection is seen by all.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./fixtures.js";
import { stopChild } from "./run_process.js";

export interface PgliteServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** Connections the server accepts at once; more are refused. */
  maxConnections: number;
  child: ChildProcess;
  /** Stops the server and waits for the child to exit. */
  stop(): Promise<void>;
}

/** Starts the server; rejects with the child's stderr if it does not listen within `timeoutMs`. */
export async function startPgliteServer({ maxConnections = 16, timeoutMs = 60_000 } = {}): Promise<PgliteServer> {
  const child = spawn(process.execPath, [join(ROOT, "test/helpers/pglite_server.mjs")], {
    cwd: ROOT,
    env: { ...process.env, PGLITE_MAX_CONNECTIONS: String(maxConnections) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = once(child, "exit");
  const firstLine = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", resolve);
    child.once("exit", (code) =>
      reject(new Error(`PGlite server exited with code ${code} before listening:\n${stderr}`)),
    );
    setTimeout(() => reject(new Error(`PGlite server did not listen within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
  });
  let port: number;
  try {
    ({ port } = JSON.parse(await firstLine) as { port: number });
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    maxConnections,
    child,
    stop: () => stopChild(child, exited),
  };
}
