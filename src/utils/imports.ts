/**
 * The one place that loads optional dependencies: faiss-node (a native addon that may be
 * missing or unbuilt on a user's machine) and pg (only the Postgres store needs it). Each
 * loads lazily, and a failure says what to install.
 */
import { MissingDependencyError } from "../errors.js";

export type FaissModule = typeof import("faiss-node");

const FAISS_HINT = [
  "The FAISS store needs the native addon faiss-node. Possible solutions:",
  "  - On a machine with internet access: npm install faiss-node (it downloads a prebuilt binary).",
  "  - Offline on Debian/Ubuntu: sudo apt-get install libfaiss-dev, then build the addon from",
  "    faiss-node's own C++ source: node node_modules/langchain-image-embeddings/scripts/install-faiss-node.mjs",
  "  - Or use any other LangChain VectorStore (e.g. MemoryVectorStore) with ImageEmbeddings.",
].join("\n");

let faiss: Promise<FaissModule> | undefined;

/** Loads faiss-node once; a failed load is retried on the next call. */
export function loadFaiss(): Promise<FaissModule> {
  faiss ??= import("faiss-node").then(
    (module) => ((module as { default?: FaissModule }).default ?? module) as FaissModule,
    (error: unknown) => {
      faiss = undefined;
      throw new MissingDependencyError("faiss-node", FAISS_HINT, { cause: error });
    },
  );
  return faiss;
}

export type PgModule = typeof import("pg");

const PG_HINT = [
  "The Postgres + pgvector store needs node-postgres, an optional peer dependency. Possible solutions:",
  "  - npm install pg",
  "  - Or use ImageFaissStore, which needs no database.",
].join("\n");

let pg: Promise<PgModule> | undefined;

/** Loads pg (node-postgres) once; a failed load is retried on the next call. */
export function loadPg(): Promise<PgModule> {
  pg ??= import("pg").then(
    (module) => ((module as unknown as { default?: PgModule }).default ?? module) as PgModule,
    (error: unknown) => {
      pg = undefined;
      throw new MissingDependencyError("pg", PG_HINT, { cause: error });
    },
  );
  return pg;
}

export type BullmqModule = typeof import("bullmq");

const BULLMQ_HINT = [
  "Distributed indexing (--queue) needs BullMQ and ioredis, optional peer dependencies. Possible solutions:",
  "  - npm install bullmq@^6.7.0 ioredis@^5.11.1",
  "  - Or index in this process without --queue (the FAISS folder or --store alone).",
].join("\n");

let bullmq: Promise<BullmqModule> | undefined;

/** Loads BullMQ (and through it ioredis) once; a failed load is retried on the next call. */
export function loadBullmq(): Promise<BullmqModule> {
  bullmq ??= Promise.all([import("ioredis"), import("bullmq")]).then(
    ([, module]) =>
      ((module as unknown as { default?: BullmqModule }).default?.Queue
        ? (module as unknown as { default: BullmqModule }).default
        : module) as BullmqModule,
    (error: unknown) => {
      bullmq = undefined;
      throw new MissingDependencyError("bullmq", BULLMQ_HINT, { cause: error });
    },
  );
  return bullmq;
}
