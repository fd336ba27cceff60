/**
 * The pieces of bench/scale_report.ts: the SVG line chart (parsed back: well-formed, every
 * coordinate a finite number inside the canvas, points where their values put them) and
 * the replacement of one Markdown section in docs/benchmarks.md.
 */
import { describe, expect, it } from "vitest";
import { replaceSection } from "../../bench/scale/markdown_section.js";
import { cacheList, indexFor, integerList, nlistFor, searchSettings } from "../../bench/scale/settings.js";
import { lineChartSvg, niceTicks } from "../../bench/scale/svg_chart.js";

interface Element {
  name: string;
  attributes: Record<string, string>;
  text: string;
}

/** A strict little XML reader for what lineChartSvg writes: balanced tags, quoted attributes, escaped text. */
function parseSvg(svg: string): Element[] {
  const elements: Element[] = [];
  const open: Element[] = [];
  const token = /<(\/?)([a-z]+)((?:\s+[A-Za-z0-9:-]+="[^"<>]*")*)\s*(\/?)>|([^<]+)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = token.exec(svg))) {
    consumed = token.lastIndex;
    const [, closing, name, attributeText, selfClosing, text] = match;
    if (text !== undefined) {
      if (/&(?!(lt|gt|amp|quot|apos);)/.test(text)) throw new Error(`unescaped & in ${JSON.stringify(text)}`);
      if (open.length) open.at(-1)!.text += text;
      else if (text.trim()) throw new Error(`text outside the root: ${text}`);
      continue;
    }
    if (closing) {
      const top = open.pop();
      if (top?.name !== name) throw new Error(`</${name}> closes <${top?.name}>`);
      continue;
    }
    const attributes = Object.fromEntries(
      [...attributeText.matchAll(/([A-Za-z0-9:-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    const element = { name, attributes, text: "" };
    elements.push(element);
    if (!selfClosing) open.push(element);
  }
  if (consumed !== svg.length)
    throw new Error(`unparsed from offset ${consumed}: ${svg.slice(consumed, consumed + 40)}`);
  if (open.length) throw new Error(`unclosed <${open.at(-1)!.name}>`);
  return elements;
}

const short = (x: number) => (x >= 1e6 ? `${x / 1e6}M` : `${x / 1e3}k`);

describe("lineChartSvg", () => {
  const series = [
    {
      title: "Peak RSS",
      unit: "GB",
      points: [
        { x: 1e5, y: 0.4 },
        { x: 1e6, y: 1.9 },
        { x: 1e7, y: 7.2 },
      ],
    },
    {
      title: "Add rate",
      unit: "vectors/s",
      points: [
        { x: 1e5, y: 120_000 },
        { x: 1e6, y: 110_000 },
        { x: 1e7, y: 95_000 },
      ],
    },
    {
      title: "Search p50 <k=10> & more",
      unit: "ms",
      points: [
        { x: 1e5, y: 0.8 },
        { x: 1e6, y: 2.5 },
        { x: 1e7, y: 11 },
      ],
    },
  ];

  it("writes a well-formed SVG whose every coordinate is a finite number inside the canvas", () => {
    const elements = parseSvg(lineChartSvg(series, { title: "Cost as work grows", xLabel: short }));
    const root = elements[0];
    expect(root.name).toBe("svg");
    const [, , width, height] = root.attributes.viewBox.split(" ").map(Number);
    expect([width, height]).toEqual([Number(root.attributes.width), Number(root.attributes.height)]);
    const coordinates = elements.flatMap((e) =>
      ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy"].flatMap((a) =>
        a in e.attributes ? [{ a, v: Number(e.attributes[a]) }] : [],
      ),
    );
    expect(coordinates.length).toBeGreaterThan(40);
    for (const { a, v } of coordinates) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(a.startsWith("x") || a === "cx" ? width : height);
    }
    const lines = elements.filter((e) => e.name === "polyline");
    expect(lines).toHaveLength(3);
    for (const line of lines)
      for (const pair of line.attributes.points.split(" "))
        expect(pair.split(",").map(Number).every(Number.isFinite)).toBe(true);
    // The title with markup characters comes back as written.
    expect(elements.some((e) => e.name === "text" && e.text === "Search p50 &lt;k=10&gt; &amp; more (ms)")).toBe(true);
  });

  it("puts points where their values say: x on a log scale, higher values higher up", () => {
    const elements = parseSvg(lineChartSvg(series, { title: "t", xLabel: short }));
    const circles = elements
      .filter((e) => e.name === "circle")
      .map((e) => ({ cx: Number(e.attributes.cx), cy: Number(e.attributes.cy) }));
    expect(circles).toHaveLength(9);
    const [rss, rate] = [circles.slice(0, 3), circles.slice(3, 6)];
    // 100k → 1M → 10M are equal steps on a log axis.
    expect(rss[1].cx - rss[0].cx).toBeCloseTo(rss[2].cx - rss[1].cx, 0);
    // SVG's y grows downwards: a growing RSS climbs, a falling add rate drops.
    expect(rss[0].cy).toBeGreaterThan(rss[1].cy);
    expect(rss[1].cy).toBeGreaterThan(rss[2].cy);
    expect(rate[0].cy).toBeLessThan(rate[2].cy);
    const labels = elements.filter((e) => e.name === "text").map((e) => e.text);
    expect(labels).toEqual(expect.arrayContaining(["100k", "1M", "10M", "7.2", "120,000"]));
  });

  it("leaves out points that are not numbers and says so for an empty series", () => {
    const svg = lineChartSvg(
      [
        {
          title: "a",
          unit: "u",
          points: [
            { x: 1e5, y: NaN },
            { x: 1e6, y: 2 },
          ],
        },
        { title: "b", unit: "u", points: [] },
      ],
      { title: "partial", xLabel: short },
    );
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    const elements = parseSvg(svg);
    expect(elements.filter((e) => e.name === "circle")).toHaveLength(1);
    expect(elements.some((e) => e.text === "not measured")).toBe(true);
  });
});

describe("niceTicks", () => {
  it("steps by 1, 2 or 5 times a power of ten from 0 to at least the maximum", () => {
    expect(niceTicks(7.2)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(120_000)).toEqual([0, 50_000, 100_000, 150_000]);
    expect(niceTicks(0.8)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});

describe("replaceSection", () => {
  const file = [
    "# Benchmarks",
    "",
    "## Search",
    "old search",
    "",
    "## Ten million images",
    "old",
    "### sub",
    "x",
    "",
    "## Bulk add",
    "kept",
    "",
  ].join("\n");

  it("replaces the section up to the next ## heading, keeping its ### subsections out of the rest", () => {
    const out = replaceSection(file, "## Ten million images", "## Ten million images\n\nnew\n### new sub\n");
    expect(out).toBe(
      [
        "# Benchmarks",
        "",
        "## Search",
        "old search",
        "",
        "## Ten million images",
        "",
        "new",
        "### new sub",
        "",
        "## Bulk add",
        "kept",
        "",
      ].join("\n"),
    );
  });

  it("appends the section when the file lacks it, and writes it alone into an empty file", () => {
    expect(replaceSection("# B\n\ntext\n", "## T", "## T\nbody")).toBe("# B\n\ntext\n\n## T\nbody\n");
    expect(replaceSection("", "## T", "## T\nbody")).toBe("## T\nbody\n");
  });
});

describe("the command line's settings", () => {
  it("crosses the given lists into one load option set per combination", () => {
    expect(searchSettings({ nprobe: [16, 32], efSearch: undefined, rerank: [0, 200] })).toEqual([
      { nprobe: 16, rerank: 0 },
      { nprobe: 16, rerank: 200 },
      { nprobe: 32, rerank: 0 },
      { nprobe: 32, rerank: 200 },
    ]);
    expect(searchSettings({})).toEqual([{}]);
  });

  it("reads integer lists and refuses anything else, naming the flag", () => {
    expect(integerList("rerank", "0,200", true)).toEqual([0, 200]);
    expect(integerList("nprobe", undefined)).toBeUndefined();
    expect(() => integerList("nprobe", "0,8")).toThrow(/positive integers for --nprobe but received "0,8"/);
    expect(() => integerList("count", "1e6x")).toThrow(/--count/);
  });

  it("reads the page cache states and refuses any other, naming the flag", () => {
    expect(cacheList("cold,warm")).toEqual(["cold", "warm"]);
    expect(cacheList(undefined)).toBeUndefined();
    expect(() => cacheList("hot")).toThrow(/cold and\/or warm for --cache but received "hot"/);
    expect(searchSettings({ rerank: [200], cache: ["cold", "warm"] })).toEqual([
      { rerank: 200, cache: "cold" },
      { rerank: 200, cache: "warm" },
    ]);
  });

  it("grows IVF lists with the count: 1024 at 100k, 4096 at 1M, 16384 at 10M", () => {
    expect([1e5, 1e6, 1e7].map(nlistFor)).toEqual([1024, 4096, 16384]);
    expect(indexFor("IVF{nlist},PQ64np", 1e7)).toBe("IVF16384,PQ64np");
    expect(indexFor("IVF{nlist},PQ64np", 1e7, 4096)).toBe("IVF4096,PQ64np");
    expect(indexFor("IVF{nlist},PQ64np", 1e5, 4096)).toBe("IVF1024,PQ64np");
  });
});
