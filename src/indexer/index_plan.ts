/**
 * The planning step of an indexing run, with no I/O, shared by the folder indexer
 * (`folder_indexer.ts`, a batch at a time) and the queued coordinator
 * (`distributed/queued_indexer.ts`, the whole run at once):
 *
 * - `planChanges`: given files with their content hashes and what the store holds,
 *   which paths are unchanged, which only need their path recorded (the content is
 *   stored already), which contents must be embedded, and which paths must first be
 *   detached from the entry holding their old bytes.
 * - `planRemovals`: which stored paths are gone.
 * - `planIndexing`: both, for a whole run.
 */

/** A file found by the walk, with the SHA-256 of its bytes. */
export interface HashedFile {
  path: string;
  hash: string;
}

/** One content and every path that holds it. */
export interface ContentPaths {
  hash: string;
  paths: string[];
}

export type PathChange = "added" | "updated";

export interface ChangeInput {
  files: HashedFile[];
  /** The content hash the store records for a path, or undefined when it records none. */
  storedHashOf: (path: string) => string | undefined;
  /** Whether the store holds this content (under any paths, or none yet). */
  isKnown: (hash: string) => boolean;
}

export interface ChangePlan {
  /** Paths stored with the same content as now. */
  unchanged: string[];
  /** Paths whose stored entry holds other bytes than the file now: detach them first. */
  detach: string[];
  /** Paths of contents the store holds: record the path only. */
  attach: { hash: string; path: string; kind: PathChange }[];
  /** Contents the store lacks, each with all its paths (sorted): embed them. */
  embed: ContentPaths[];
  /** For each path in `embed`: new to the store, or changed. */
  embedKinds: [string, PathChange][];
}

/** Which paths a run may treat as deleted. */
export interface RemovalScope {
  /** Stored paths outside the roots are never removed. */
  isUnderRoots: (path: string) => boolean;
  /** Stored paths under unreadable folders are kept, not removed. */
  isProtected: (path: string) => boolean;
}

export interface PlanInput extends RemovalScope {
  files: HashedFile[];
  /** The store's entries: content hash and paths. */
  stored: ContentPaths[];
  /** Hashes among `files` that the store holds (with or without these paths). */
  known: Set<string>;
}

export interface IndexPlan extends ChangePlan {
  /** Stored paths under the roots that the walk did not find (sorted). */
  remove: string[];
}

/** Sorts `files` by what the store holds (see the file comment). Files with the same new content are embedded once. */
export function planChanges(input: ChangeInput): ChangePlan {
  const plan: ChangePlan = { unchanged: [], detach: [], attach: [], embed: [], embedKinds: [] };
  const toEmbed = new Map<string, string[]>();
  for (const { path, hash } of input.files) {
    const previous = input.storedHashOf(path);
    if (previous === hash) {
      plan.unchanged.push(path);
      continue;
    }
    const kind: PathChange = previous === undefined ? "added" : "updated";
    if (previous !== undefined) plan.detach.push(path);
    if (input.isKnown(hash)) {
      plan.attach.push({ hash, path, kind });
    } else {
      toEmbed.set(hash, [...(toEmbed.get(hash) ?? []), path]);
      plan.embedKinds.push([path, kind]);
    }
  }
  plan.embed = [...toEmbed].map(([hash, paths]) => ({ hash, paths: paths.sort() }));
  return plan;
}

/** The paths among `storedPaths` that were not `found`, inside the scope, sorted. */
export function planRemovals(storedPaths: Iterable<string>, found: ReadonlySet<string>, scope: RemovalScope): string[] {
  return [...storedPaths].filter((p) => !found.has(p) && scope.isUnderRoots(p) && !scope.isProtected(p)).sort();
}

/** The whole run's plan: `planChanges` over every file, and `planRemovals` over every stored path. */
export function planIndexing(input: PlanInput): IndexPlan {
  const owner = new Map<string, string>();
  for (const entry of input.stored) for (const path of entry.paths) owner.set(path, entry.hash);
  const changes = planChanges({
    files: input.files,
    storedHashOf: (path) => owner.get(path),
    isKnown: (hash) => input.known.has(hash),
  });
  const found = new Set(input.files.map((f) => f.path));
  return { ...changes, remove: planRemovals(owner.keys(), found, input) };
}
