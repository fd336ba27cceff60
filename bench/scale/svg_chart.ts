/**
 * A small SVG line chart for docs/scale-cost.svg: one panel per series, side by side, each
 * with its own y axis (the series have different units) over a shared logarithmic x axis
 * (vector counts). Hand-written because three panels of three points need no plotting
 * library, and the SVG stays a plain text file that diffs well.
 */

export interface ChartSeries {
  title: string;
  /** Printed after each value and on the y axis. */
  unit: string;
  points: { x: number; y: number }[];
}

export interface ChartOptions {
  title: string;
  /** Labels of the x ticks, by x value (e.g. 1e6 → "1M"). */
  xLabel: (x: number) => string;
  /** Digits after the point in value labels. */
  digits?: number;
}

const PANEL = { width: 300, height: 230, left: 58, right: 16, top: 44, bottom: 40 };
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/** The chart as an SVG document. Points with a non-finite or non-positive x, or a non-finite y, are left out. */
export function lineChartSvg(series: ChartSeries[], options: ChartOptions): string {
  const width = PANEL.width * Math.max(1, series.length);
  const height = PANEL.height + 30;
  const xs = series.flatMap((s) => s.points.map((p) => p.x)).filter((x) => Number.isFinite(x) && x > 0);
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  const logMin = Math.log10(xTicks[0] ?? 1);
  const logMax = Math.log10(xTicks.at(-1) ?? 10);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  ];
  series.forEach((s, i) => {
    const left = i * PANEL.width + PANEL.left;
    const plotWidth = PANEL.width - PANEL.left - PANEL.right;
    const top = PANEL.top + 10;
    const plotHeight = PANEL.height - PANEL.top - PANEL.bottom;
    const points = s.points.filter((p) => Number.isFinite(p.x) && p.x > 0 && Number.isFinite(p.y));
    const yTicks = niceTicks(Math.max(0, ...points.map((p) => p.y)));
    const yMax = yTicks.at(-1)!;
    const px = (x: number) =>
      round(left + (logMax === logMin ? plotWidth / 2 : ((Math.log10(x) - logMin) / (logMax - logMin)) * plotWidth));
    const py = (y: number) => round(top + plotHeight - (y / yMax) * plotHeight);
    const colour = COLOURS[i % COLOURS.length];
    parts.push(
      `<g>`,
      `<text x="${round(left + plotWidth / 2)}" y="${PANEL.top}" text-anchor="middle" font-size="12">${escapeXml(`${s.title} (${s.unit})`)}</text>`,
      `<line x1="${left}" y1="${top + plotHeight}" x2="${left + plotWidth}" y2="${top + plotHeight}" stroke="#444444"/>`,
      `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#444444"/>`,
    );
    for (const tick of yTicks) {
      parts.push(
        `<line x1="${left - 4}" y1="${py(tick)}" x2="${left + plotWidth}" y2="${py(tick)}" stroke="#dddddd"/>`,
        `<text x="${left - 6}" y="${py(tick) + 4}" text-anchor="end">${escapeXml(formatNumber(tick))}</text>`,
      );
    }
    for (const tick of xTicks) {
      parts.push(
        `<text x="${px(tick)}" y="${top + plotHeight + 16}" text-anchor="middle">${escapeXml(options.xLabel(tick))}</text>`,
      );
    }
    if (points.length > 1) {
      const line = points
        .sort((a, b) => a.x - b.x)
        .map((p) => `${px(p.x)},${py(p.y)}`)
        .join(" ");
      parts.push(`<polyline points="${line}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    }
    for (const p of points) {
      parts.push(
        `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3.5" fill="${colour}"/>`,
        `<text x="${px(p.x)}" y="${py(p.y) - 8}" text-anchor="middle">${escapeXml(formatNumber(p.y, options.digits))}</text>`,
      );
    }
    if (points.length === 0) {
      parts.push(
        `<text x="${round(left + plotWidth / 2)}" y="${round(top + plotHeight / 2)}" text-anchor="middle" fill="#888888">not measured</text>`,
      );
    }
    parts.push(`</g>`);
  });
  parts.push(`</svg>`, "");
  return parts.join("\n");
}

/** 0 and 4 or 5 round steps (1, 2 or 5 × 10^n) up to at least `max`. */
export function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)));
  return ticks;
}

function formatNumber(value: number, digits?: number): string {
  if (digits !== undefined) return value.toFixed(digits);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en");
  return Number(value.toPrecision(3)).toString();
}

const round = (v: number) => Math.round(v * 10) / 10;

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}
