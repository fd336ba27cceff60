// A Postgres server for tests: PGlite (Postgres compiled to WASM) with the pgvector
// extension, served over the Postgres wire protocol on 127.0.0.1. Run as a child process
// by `startPgliteServer` (pglite_server.ts), so tests talk to it as to any Postgres.
// Prints one JSON line {"port": N} once it listens; stops on SIGTERM or when stdin closes.
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const maxConnections = Number(process.env.PGLITE_MAX_CONNECTIONS ?? 16);
const db = await PGlite.create({ extensions: { vector } });
const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections });
const listening = new Promise((resolve) => server.addEventListener("listening", (e) => resolve(e.detail.port)));
await server.start();
process.stdout.write(JSON.stringify({ port: await listening, maxConnections }) + "\n");

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The test runner dying closes our stdin: never outlive it.
process.stdin.on("end", stop);
process.stdin.resume();
