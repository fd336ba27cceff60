/**
 * The one place that loads the native and heavy dependencies: sharp, transformers.js
 * (which brings onnxruntime-node), faiss-node, and pg (for the Postgres store only). Each loads on first use, so importing
 * the package costs none of them; each loads once, a failed load is retried on the next
 * call, and a failure says what to install or fix, with the cause.
 */
import { createRequire } from "node:module";
import { DependencyConflictError, MissingDependencyError } from "../errors.js";

/**
 * `import()` in the ESM build and from source; `require` in the CommonJS build, which
 * then shares the CommonJS copy of a package with a CommonJS app (as a static require did).
 */
function importOrRequire<T>(name: string, importer: () => Promise<T>): Promise<T> {
  if (!import.meta.url.endsWith(".cjs")) return importer();
  return new Promise<T>((resolve) => resolve(createRequire(import.meta.url)(name) as T));
}

/** The `sharp` function (the default export). */
export type SharpModule = (typeof import("sharp"))["default"];

const SHARP_HINT = [
  "Reading images needs the native module sharp (a dependency of this package). Possible solutions:",
  "  - Reinstall it for this platform: npm install --include=optional sharp",
  "  - See https://sharp.pixelplumbing.com/install for platforms without a prebuilt binary.",
].join("\n");

let sharp: Promise<SharpModule> | undefined;

/** Loads sharp once; a failed load is retried on the next call. */
export function loadSharp(): Promise<SharpModule> {
  sharp ??= importOrRequire("sharp", () => import("sharp")).then(
    (module) => (module as { default?: SharpModule }).default ?? (module as unknown as SharpModule),
    (error: unknown) => {
      sharp = undefined;
      throw new MissingDependencyError("sharp", SHARP_HINT, { cause: error });
    },
  );
  return sharp;
}

export type TransformersModule = typeof import("@huggingface/transformers");

/** The major version of transformers.js this package is written and tested for. */
const TRANSFORMERS_MAJOR = 4;

/** The one fix for a wrong or doubled transformers.js (and so onnxruntime-node) in the app's tree. */
const ONE_TRANSFORMERS_FIX = [
  "Keep one @huggingface/transformers 4.x in your project: `npm ls @huggingface/transformers` shows the copies.",
  "If @langchain/community (which asks for ^3.8.1) or another package brings a second one, make it share",
  "this one with an npm override in your package.json, then run npm install again (README:",
  '"With @langchain/community"):',
  '  "dependencies": { "@huggingface/transformers": "4.3.1" },',
  '  "overrides": { "@huggingface/transformers": "$@huggingface/transformers" }',
].join("\n");

const TRANSFORMERS_HINT = [
  "Running models needs @huggingface/transformers 4.x (a peer dependency of this package):",
  "  npm install @huggingface/transformers@4.3.1",
].join("\n");

let transformers: Promise<TransformersModule> | undefined;

/**
 * Loads transformers.js once and checks it is the 4.x this package needs; a failed load is
 * retried on the next call.
 */
export function loadTransformers(): Promise<TransformersModule> {
  transformers ??= importOrRequire("@huggingface/transformers", () => import("@huggingface/transformers"))
    .then(checkTransformersVersion)
    .catch((error: unknown) => {
      transformers = undefined;
      throw transformersLoadError(error);
    });
  return transformers;
}

function checkTransformersVersion(module: TransformersModule): TransformersModule {
  const version = module.env?.version ?? "unknown";
  if (Number(version.split(".")[0]) !== TRANSFORMERS_MAJOR) {
    throw new DependencyConflictError(
      `This package needs @huggingface/transformers ${TRANSFORMERS_MAJOR}.x, but ${version} was loaded.\n${ONE_TRANSFORMERS_FIX}`,
    );
  }
  return module;
}

function transformersLoadError(error: unknown): Error {
  if (error instanceof DependencyConflictError) return error;
  if (isDoubleOnnxruntime(error)) {
    return new DependencyConflictError(
      "onnxruntime-node failed to load: two different onnxruntime-node builds are in this process " +
        "(each ships libonnxruntime.so.1, and the second one loaded cannot bind to the first's symbols). " +
        `Usually a second @huggingface/transformers brought its own.\n${ONE_TRANSFORMERS_FIX}`,
      { cause: error },
    );
  }
  return new MissingDependencyError("@huggingface/transformers", TRANSFORMERS_HINT, { cause: error });
}

/** ERR_DLOPEN_FAILED naming libonnxruntime or its symbol versions (VERS_1.x), anywhere in the cause chain. */
function isDoubleOnnxruntime(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: string }).code;
    if (
      (code === "ERR_DLOPEN_FAILED" || /ERR_DLOPEN_FAILED/.test(e.message)) &&
      /libonnxruntime|VERS_1\./.test(e.message)
    )
      return true;
  }
  return false;
}

/** faiss-node, below: a native addon that may be missing or unbuilt on a user's machine. */

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
