/**
 * The FAISS store options of the CLI, defined once for every command that opens an
 * `--index` folder. `index` takes the build options of a new index (`--ef-construction`,
 * `--train-size`, beside `--index-type`) and search parameters to save with it (`--rerank` too); `search` and
 * `serve` take search parameters for their run; all take `--threads` and `--vectors-on-disk`.
 * They reach the store through `openImageIndex`'s `store` option (`IndexStoreOptions`).
 */
import { resolve } from "node:path";
import { Option } from "commander";
import type { IndexStoreOptions } from "../indexer/open_index.js";
import { trainingNeeds } from "../vectorstores/index_training.js";
import { nonNegativeInteger, positiveInteger } from "./shared.js";

/** The parsed options, as commander names them. */
export type FaissCommandOptions = IndexStoreOptions;

const FLAGS: Record<keyof FaissCommandOptions, string> = {
  efConstruction: "--ef-construction",
  trainSize: "--train-size",
  efSearch: "--ef-search",
  nprobe: "--nprobe",
  rerank: "--rerank",
  threads: "--threads",
  vectorsOnDisk: "--vectors-on-disk",
};

/** `index`: how a new index is built, and the search parameters it saves. */
export function indexBuildOptions(): Option[] {
  return [
    new Option(
      "--ef-construction <n>",
      "HNSW: candidates examined per insertion; higher builds slower, better graphs; give it when the " +
        "index is created (default: 40)",
    ).argParser(positiveInteger("--ef-construction")),
    new Option(
      "--train-size <n>",
      "index types that need training (IVF, PQ, OPQ, SQ8): images gathered before training, and the most " +
        "it trains on, saved with the index for rebuilds after deletes (default: the index's, else from the type, " +
        "e.g. 39 x nlist for IVF)",
    ).argParser(positiveInteger("--train-size")),
    new Option(
      "--ef-search <n>",
      "HNSW: candidates examined per search, saved with the index as its default (default: the index's, else 128)",
    ).argParser(positiveInteger("--ef-search")),
    new Option(
      "--nprobe <n>",
      "IVF: lists probed per search, saved with the index as its default (default: the index's, else 8)",
    ).argParser(positiveInteger("--nprobe")),
    new Option(
      "--rerank <n>",
      "re-score max(k, n) candidates exactly against the stored vectors, saved with the index as its default " +
        "(for compressed indexes: PQ, SQ8; default: the index's, else 0)",
    ).argParser(nonNegativeInteger("--rerank")),
    threadsOption(),
    ...vectorsOnDiskOptions(
      "keep the index's float32 vectors in files under <index>/vectors, read on demand, instead of in memory " +
        "(from about a million images, or sooner with a compressed --index-type; default: as the index keeps them, " +
        "else in memory)",
      "keep the vectors in memory (an index that keeps them on disk is saved with them in memory)",
    ),
  ];
}

/** `search` and `serve`: search parameters for this run, over those saved with the index. */
export function searchOptions(): Option[] {
  return [
    new Option(
      "--ef-search <n>",
      "HNSW: candidates examined per search; higher is slower and more exact (default: the index's)",
    ).argParser(positiveInteger("--ef-search")),
    new Option("--nprobe <n>", "IVF: lists probed per search (default: the index's)").argParser(
      positiveInteger("--nprobe"),
    ),
    new Option(
      "--rerank <n>",
      "fetch max(k, n) candidates from the index and re-score them exactly against the stored vectors; " +
        "for compressed indexes (PQ, SQ8). 0: off (default: the index's, else 0)",
    ).argParser(nonNegativeInteger("--rerank")),
    threadsOption(),
    ...vectorPlacementOptions(),
  ];
}

/** Where a loaded index's vectors live: `duplicates` reads every one, with no faiss search. */
export function vectorPlacementOptions(): Option[] {
  return vectorsOnDiskOptions(
    "read the stored vectors from their files on demand instead of loading them into memory " +
      "(default: as the index keeps them)",
    "load the stored vectors into memory, even where the index keeps them on disk",
  );
}

function threadsOption(): Option {
  return new Option(
    "--threads <n>",
    "CPU threads for faiss (OpenMP, with the addon our install builds) and the model (default: all cores)",
  ).argParser(positiveInteger("--threads"));
}

/** `--vectors-on-disk` and `--no-vectors-on-disk`: given together, commander leaves the value undefined when neither is. */
function vectorsOnDiskOptions(onDisk: string, inMemory: string): Option[] {
  return [new Option("--vectors-on-disk", onDisk), new Option("--no-vectors-on-disk", inMemory)];
}

/** The options given, for `openImageIndex` (`store`). */
export function storeSettings(options: FaissCommandOptions): IndexStoreOptions {
  const settings: IndexStoreOptions = {};
  for (const name of Object.keys(FLAGS) as (keyof FaissCommandOptions)[]) {
    if (options[name] !== undefined) Object.assign(settings, { [name]: options[name] });
  }
  return settings;
}

/** The flags given, as the user typed them. */
export function givenFlags(options: FaissCommandOptions): string[] {
  return (Object.keys(FLAGS) as (keyof FaissCommandOptions)[])
    .filter((name) => options[name] !== undefined)
    .map((name) =>
      name === "vectorsOnDisk" && options.vectorsOnDisk === false ? "--no-vectors-on-disk" : FLAGS[name],
    );
}

/**
 * Refuses options the index in `dir` has no use for: efSearch or efConstruction without
 * HNSW, nprobe without IVF, a training size for a type that needs no training or one
 * smaller than faiss can train on. The index type is `indexType` (`--index-type`) when
 * given, else the saved index's, else the default Flat. Errors name the flag.
 */
export async function checkFaissOptions(dir: string, options: FaissCommandOptions, indexType?: string): Promise<void> {
  if (givenFlags(options).length === 0) return;
  const { readIndexManifest } = await import("../indexer/open_index.js");
  const saved = indexType === undefined ? (await readIndexManifest(resolve(dir)))?.indexType : undefined;
  const type = indexType?.trim() ?? saved ?? "Flat";
  const refuse = (name: keyof FaissCommandOptions, needs: string) => {
    const which = indexType === undefined && saved === undefined ? " (the default: choose one with --index-type)" : "";
    throw new Error(`${FLAGS[name]} applies to ${needs}, and the index type is "${type}"${which}`);
  };
  if (options.efSearch !== undefined && !/HNSW/i.test(type)) refuse("efSearch", "HNSW indexes only");
  if (options.efConstruction !== undefined && !/HNSW/i.test(type)) refuse("efConstruction", "HNSW indexes only");
  if (options.nprobe !== undefined && !/IVF/i.test(type)) refuse("nprobe", "IVF indexes only");
  if (options.trainSize !== undefined) {
    const needs = trainingNeeds(type);
    if (!needs.needsTraining) refuse("trainSize", "index types that need training (IVF, PQ, OPQ, SQ8)");
    if (options.trainSize < needs.minimum) {
      throw new Error(
        `--train-size ${options.trainSize} is too small for a "${type}" index: it must be at least ${needs.minimumReason}`,
      );
    }
  }
}
