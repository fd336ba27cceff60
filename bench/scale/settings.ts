/** How the scale benchmark's command line turns into store options and search settings. */

/** A comma-separated list of integers ≥ 1 (≥ 0 with `allowZero`, as for rerank), or undefined when the flag is absent. */
export function integerList(name: string, text: string | undefined, allowZero = false): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(",").map((part) => Number(part.trim()));
  for (const v of values) {
    if (!Number.isInteger(v) || v < (allowZero ? 0 : 1))
      throw new RangeError(
        `Expected ${allowZero ? "non-negative" : "positive"} integers for --${name} but received "${text}"`,
      );
  }
  return values;
}

/** The power of two nearest 4·√count: IVF list counts that grow with the data (1024 at 100k, 4096 at 1M, 16384 at 10M). */
export const nlistFor = (count: number) => 2 ** Math.round(Math.log2(4 * Math.sqrt(count)));

/**
 * The factory string with `{nlist}` filled in for `count` vectors, at most `maxNlist`: k-means
 * over 16,384 lists trains about four times longer than over 4,096 on these 2 cores.
 */
export const indexFor = (factory: string, count: number, maxNlist = Infinity) =>
  factory.replaceAll("{nlist}", String(Math.min(nlistFor(count), maxNlist)));

/**
 * The page cache's state a search child runs in: `cold` drops the kernel's page cache first
 * (root only), `warm` reads the store's vector files once before timing (`prefetchVectors`).
 * Without it a search runs in whatever state the run before it left.
 */
export type CacheState = "cold" | "warm";

/** `--cache cold,warm`, or undefined when the flag is absent. */
export function cacheList(text: string | undefined): CacheState[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(",").map((part) => part.trim());
  for (const v of values)
    if (v !== "cold" && v !== "warm")
      throw new RangeError(`Expected cold and/or warm for --cache but received "${text}"`);
  return values as CacheState[];
}

/** Every combination of the given lists, as load options (a list not given adds no key). */
export function searchSettings(
  lists: Record<string, (number | string)[] | undefined>,
): Record<string, number | string>[] {
  let settings: Record<string, number | string>[] = [{}];
  for (const [key, values] of Object.entries(lists)) {
    if (!values?.length) continue;
    settings = settings.flatMap((s) => values.map((v) => ({ ...s, [key]: v })));
  }
  return settings;
}

export function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
