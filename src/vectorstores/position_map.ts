/**
 * Which document id sits at each index position, and which positions are dead.
 *
 * faiss numbers vectors by position and most index types cannot remove one, so a
 * delete or an upsert leaves a tombstone (null) at the old position; searches skip
 * it, and `compact` renumbers the live positions densely when the index is rebuilt.
 */
export class PositionMap {
  /** Index position → document id; null marks a deleted position (a tombstone). */
  private ids: (string | null)[];
  private positions = new Map<string, number>();

  constructor(ids: (string | null)[] = []) {
    this.ids = ids;
    ids.forEach((id, position) => id !== null && this.positions.set(id, position));
  }

  /** Live ids. */
  get size(): number {
    return this.positions.size;
  }

  /** Positions handed out so far, dead ones included. */
  get length(): number {
    return this.ids.length;
  }

  get deletedCount(): number {
    return this.ids.length - this.positions.size;
  }

  has(id: string): boolean {
    return this.positions.has(id);
  }

  positionOf(id: string): number | undefined {
    return this.positions.get(id);
  }

  /** The live id at `position`, or undefined for a tombstone. */
  idAt(position: number): string | undefined {
    return this.ids[position] ?? undefined;
  }

  /** Records `id` at `position`, the next one handed out. */
  assign(id: string, position: number): void {
    this.ids[position] = id;
    this.positions.set(id, position);
  }

  /** An upsert's first half: each of `ids` stored already is tombstoned, making room for its new position. */
  tombstoneStored(ids: string[]): void {
    if (this.positions.size > 0) for (const id of ids) this.tombstone(id);
  }

  /** Which of `ids` an upsert keeps (the last occurrence of each), or undefined when none repeats. Changes nothing. */
  static keepLast(ids: string[]): boolean[] | undefined {
    const last = new Map<string, number>();
    for (let i = 0; i < ids.length; i++) last.set(ids[i], i);
    return last.size === ids.length ? undefined : ids.map((id, i) => last.get(id) === i);
  }

  /** Marks the position of `id` dead. Returns false for an id that is not stored. */
  tombstone(id: string): boolean {
    const position = this.positions.get(id);
    if (position === undefined) return false;
    this.ids[position] = null;
    this.positions.delete(id);
    return true;
  }

  /** Live ids, in insertion order. */
  keys(): IterableIterator<string> {
    return this.positions.keys();
  }

  /** Live [id, position] pairs, in insertion order of the ids. */
  entries(): IterableIterator<[string, number]> {
    return this.positions.entries();
  }

  /**
   * Renumbers the live ids 0, 1, 2... in position order, dropping the tombstones.
   * Returns the old positions of the live ids, in that order, to rebuild the index from.
   */
  compact(): number[] {
    const live = [...this.positions.values()].sort((a, b) => a - b);
    this.ids = live.map((p) => this.ids[p]);
    this.positions = new Map(this.ids.map((id, p) => [id!, p]));
    return live;
  }

  /** Position → id of the live positions (FaissStore's `getMapping()` shape). */
  toRecord(): Record<number, string> {
    const record: Record<number, string> = {};
    this.ids.forEach((id, p) => id !== null && (record[p] = id));
    return record;
  }

  /** Every position's id or null, as saved. */
  toJSON(): (string | null)[] {
    return this.ids;
  }
}
