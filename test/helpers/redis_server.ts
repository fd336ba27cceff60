/**
 * Starts a private Redis for a test: Debian's `redis-server` (installed by scripts/setup.sh)
 * as a child process on 127.0.0.1 and a free port, with persistence off, so nothing is
 * written to disk and nothing outlives the test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { stopChild } from "./run_process.js";

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  child: ChildProcess;
  /** Stops the server and waits for the child to exit. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the kernel's pick for port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** Starts redis-server; rejects with its output if it is missing or does not listen within `timeoutMs`. */
export async function startRedisServer({ timeoutMs = 20_000 } = {}): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes("Ready to accept connections")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (error) =>
      reject(new Error(`Cannot start redis-server (run scripts/setup.sh to install it): ${error.message}`)),
    );
    child.once("exit", (code) =>
      reject(new Error(`redis-server exited with code ${code} before listening:\n${output}`)),
    );
    setTimeout(() => reject(new Error(`redis-server did not listen within ${timeoutMs} ms:\n${output}`)), timeoutMs);
  });
  const exited = once(child, "exit");
  try {
    await ready;
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child,
    stop: () => stopChild(child, exited),
  };
}
