/**
 * The planning step of an indexing run, with no I/O: given the files found (with their
 * content hashes) and what the store holds, which paths are unchanged, which only need
 * their path recorded (the content is stored already), which contents must be embedded,
 * and which stored paths are gone.
 */
import type { BatchItem } from "./batch_jobs.js";

export interface PlanInput {
  /** Files found by the walk, each with the SHA-256 of its bytes. */
  files: { path: string; hash: string }[];
  /** The store's entries: content hash and paths. */
  stored: { hash: string; paths: string[] }[];
  /** Hashes among `files` that the store holds (with or without these paths). */
  known: Set<string>;
  /** Stored paths outside the roots are never removed. */
  isUnderRoots: (path: string) => boolean;
  /** Stored paths under unreadable folders are kept, not removed. */
  isProtected: (path: string) => boolean;
}

export type PathChange = "added" | "updated";

export interface IndexPlan {
  /** Paths stored with the same content as now. */
  unchanged: string[];
  /** Paths whose stored entry holds other bytes than the file now: detach them first. */
  detach: string[];
  /** Paths of contents the store holds: record the path only. */
  attach: { hash: string; path: string; kind: PathChange }[];
  /** Contents the store lacks, each with all its paths: embed them. */
  embed: BatchItem[];
  /** For each path in `embed`: new to the store, or changed. */
  embedKinds: [string, PathChange][];
  /** Stored paths under the roots that the walk did not find. */
  remove: string[];
}

export function planIndexing(input: PlanInput): IndexPlan {
  const owner = new Map<string, string>();
  for (const entry of input.stored) for (const path of entry.paths) owner.set(path, entry.hash);
  const plan: IndexPlan = { unchanged: [], detach: [], attach: [], embed: [], embedKinds: [], remove: [] };
  const toEmbed = new Map<string, string[]>();
  for (const { path, hash } of input.files) {
    const previous = owner.get(path);
    if (previous === hash) {
      plan.unchanged.push(path);
      continue;
    }
    const kind: PathChange = previous === undefined ? "added" : "updated";
    if (previous !== undefined) plan.detach.push(path);
    if (input.known.has(hash)) {
      plan.attach.push({ hash, path, kind });
    } else {
      toEmbed.set(hash, [...(toEmbed.get(hash) ?? []), path]);
      plan.embedKinds.push([path, kind]);
    }
  }
  plan.embed = [...toEmbed].map(([hash, paths]) => ({ hash, paths: paths.sort() }));
  const found = new Set(input.files.map((f) => f.path));
  plan.remove = [...owner.keys()].filter((p) => !found.has(p) && input.isUnderRoots(p) && !input.isProtected(p)).sort();
  return plan;
}
