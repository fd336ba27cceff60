/**
 * One writer per index folder. Two `index` runs on the same folder would each load
 * the store, add their own files and save, and the last save would drop the other's
 * work; so a run holds `<index>/LOCK` (created exclusively, holding its pid and host)
 * while it writes. A lock left by a killed run is taken over once its process is gone.
 * Readers (`search`, `serve`) need no lock: every save is a complete new version.
 */
import { hostname } from "node:os";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

export const LOCK_FILE = "LOCK";

/** Another live process is writing to the index. */
export class IndexLockedError extends Error {
  override name = "IndexLockedError";

  constructor(
    readonly indexDir: string,
    readonly pid: number,
    readonly host: string,
    readonly since: string,
  ) {
    super(
      `The index ${indexDir} is being written by another process (pid ${pid} on ${host}, since ${since}). ` +
        `Wait for it to finish, or stop it; if no such process exists, delete ${join(indexDir, LOCK_FILE)}.`,
    );
  }
}

interface LockBody {
  pid: number;
  host: string;
  since: string;
}

/** Takes the index's write lock. Resolves to a function that releases it. */
export async function lockIndex(indexDir: string): Promise<() => Promise<void>> {
  await mkdir(indexDir, { recursive: true });
  const path = join(indexDir, LOCK_FILE);
  const body: LockBody = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(JSON.stringify(body));
      } finally {
        await handle.close();
      }
      return async () => {
        const current = await readLock(path);
        if (current?.pid === body.pid && current.host === body.host) await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 3) throw error;
    }
    const holder = await readLock(path);
    if (holder && holder.host === body.host && isAlive(holder.pid)) {
      throw new IndexLockedError(indexDir, holder.pid, holder.host, holder.since);
    }
    if (holder && holder.host !== body.host) {
      // A process on another machine (a shared folder): its liveness cannot be checked here.
      throw new IndexLockedError(indexDir, holder.pid, holder.host, holder.since);
    }
    await rm(path, { force: true }); // stale: its process is gone (or the file is unreadable)
  }
}

async function readLock(path: string): Promise<LockBody | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as LockBody;
    return typeof parsed.pid === "number" && typeof parsed.host === "string" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
