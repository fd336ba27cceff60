/** The server side of the load test: `serve` on a free port; prints its URL, then serves until killed. */
import { startImageServer } from "../../src/index.js";
import { readArgs } from "./child.js";

const args = readArgs<{ indexDir: string }>();
const server = await startImageServer({ indexDir: args.indexDir, port: 0 });
process.stdout.write(`URL ${server.url}\n`);
