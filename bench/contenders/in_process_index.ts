/**
 * The in-process baseline for the queue: the same images, model, batches and store
 * (pgvector on PGlite) as queued_index.ts, without Redis. Each batch is read, hashed,
 * embedded and upserted by content hash here, as a worker does it.
 */
import { loadavg } from "node:os";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { ImageEmbeddings, PgvectorImageStore } from "../../src/index.js";
import { startPgliteServer } from "../../test/helpers/pglite_server.js";
import { measure, readArgs, report } from "./child.js";

const args = readArgs<{ model: string; timedDir: string; warmDir: string; threads: number; batchSize: number }>();
const files = async (dir: string) => (await readdir(dir)).sort().map((name) => join(dir, name));

const postgres = await startPgliteServer({ maxConnections: 8 });
const embeddings = new ImageEmbeddings({ model: args.model, threads: args.threads });
try {
  const store = await PgvectorImageStore.initialize(embeddings, {
    connectionString: postgres.url,
    tableName: "image_embeddings",
    hnswIndexAt: Infinity,
    poolSize: 2,
  });
  const indexBatch = async (paths: string[]) => {
    const bytes = await Promise.all(paths.map((p) => readFile(p)));
    const hashes = bytes.map((b) => createHash("sha256").update(b).digest("hex"));
    const results = await embeddings.embedImagesSettled(bytes);
    const vectors = results.map((r, i) => {
      if (r.error) throw new Error(`${paths[i]}: ${r.error.reason}`);
      return r.embedding;
    });
    const documents = hashes.map(
      (hash, i) =>
        new Document({
          id: hash,
          pageContent: paths[i],
          metadata: { modality: "image", contentHash: hash, source: paths[i], paths: [paths[i]] },
        }),
    );
    await store.addVectors(vectors, documents, { ids: hashes, mergePaths: true });
  };
  await indexBatch(await files(args.warmDir)); // loads the model outside the timing
  const timed = await files(args.timedDir);
  let batches = 0;
  const run = await measure(async () => {
    for (let start = 0; start < timed.length; start += args.batchSize, batches++)
      await indexBatch(timed.slice(start, start + args.batchSize));
  });
  report({
    // The machine's 1, 5 and 15-minute load averages when this run ended (the cores are shared).
    loadAverage: loadavg(),
    threads: args.threads,
    images: timed.length,
    stored: (await store.count()) - (await files(args.warmDir)).length,
    batches,
    seconds: run.seconds,
    cpuSeconds: run.cpuSeconds,
    peakRssMb: run.peakRssMb,
  });
  await store.end();
} finally {
  await embeddings.dispose();
  await postgres.stop();
}
