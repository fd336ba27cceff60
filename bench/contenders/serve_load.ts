/**
 * Load test of `serve` (issue 6): autocannon with 50 connections for 30 s against the
 * text search endpoint on 127.0.0.1, with a different query on each request. The
 * server runs in its own process, whose RSS is sampled every second.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import autocannon from "autocannon";
import { indexFolders } from "../../src/index.js";
import { writeGallery } from "../../examples/shared/gallery.js";
import { percentile } from "../stats.js";
import { readArgs, report } from "./child.js";

const args = readArgs<{
  model: string;
  workDir: string;
  connections: number;
  seconds: number;
  warmUpSeconds: number;
}>();
const ROOT = resolve(import.meta.dirname, "../..");
const indexDir = join(args.workDir, "index");
if (!existsSync(join(indexDir, "CURRENT"))) {
  await writeGallery(join(args.workDir, "images"), 10, 4242); // 240 images
  await indexFolders([join(args.workDir, "images")], { indexDir, model: args.model });
}

// `--import tsx` (not the tsx CLI, which runs a second process) so that server.pid is the server.
const server = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench/contenders/serve_server.ts")], {
  cwd: ROOT,
  stdio: ["pipe", "pipe", "inherit"],
});
server.stdin.end(JSON.stringify({ indexDir }));
const url = await new Promise<string>((done, fail) => {
  let out = "";
  server.stdout.on("data", (chunk: Buffer) => {
    out += chunk;
    const match = /^URL (\S+)$/m.exec(out);
    if (match) done(match[1]);
  });
  server.on("exit", (code) => fail(new Error(`the server exited (${code}) before listening`)));
});
const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))![1]) / 1024;

const words = [
  "red",
  "green",
  "blue",
  "yellow",
  "purple",
  "orange",
  "circle",
  "square",
  "triangle",
  "star",
  "small",
  "bright",
];
let n = 0;
const query = () => `${words[n % 12]} ${words[(n * 7 + 3) % 12]} ${n++ % 97}`;
const load = (seconds: number) =>
  autocannon({
    url,
    connections: args.connections,
    duration: seconds,
    requests: [
      { method: "GET", setupRequest: (req) => ({ ...req, path: `/api/search?q=${encodeURIComponent(query())}&k=10` }) },
    ],
  });
// Warm-up under the same load: the model loads, onnxruntime's arena grows to the query
// shapes, V8 sizes its heap. Memory is judged on the measured run after it.
const warmUp = await load(args.warmUpSeconds);
const rssStart = rssMb();
const samples: number[] = [];
const sampler = setInterval(() => samples.push(rssMb()), 1000);
const result = await load(args.seconds);
clearInterval(sampler);
const rssEnd = rssMb();
server.kill();
report({
  connections: args.connections,
  seconds: args.seconds,
  requests: result.requests.total,
  requestsPerSecond: result.requests.average,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  latencyP50Ms: result.latency.p50,
  latencyP99Ms: result.latency.p99,
  latencyMaxMs: result.latency.max,
  rssStartMb: rssStart,
  rssEndMb: rssEnd,
  rssMaxMb: Math.max(...samples, rssEnd),
  rssP50Mb: percentile(samples, 50),
  rssSamplesMb: samples.map((x) => Math.round(x)),
  warmUp: { seconds: args.warmUpSeconds, requests: warmUp.requests.total, errors: warmUp.errors, rssAfterMb: rssStart },
});
