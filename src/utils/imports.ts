/**
 * The one place that loads faiss-node. It is a native addon that may be missing or
 * unbuilt on a user's machine, so it loads lazily, and a failure says what to install.
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
