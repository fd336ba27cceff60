/**
 * Rewrites only the "## Bulk add" section of docs/benchmarks.md from the last bulk results
 * (.cache/bench/results.json, written by `npx tsx bench/run.ts --only bulk`), leaving the
 * other sections as they are; bench/run.ts itself rewrites the whole file from its results.
 *
 *   npx tsx bench/bulk_report.ts
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bulkSection } from "./report.js";
import { replaceSection } from "./scale/markdown_section.js";
import { CACHE, ROOT } from "./scale/runner.js";

const results = JSON.parse(await readFile(join(CACHE, "results.json"), "utf8"));
if (!results.bulk) throw new Error(`no bulk results in ${join(CACHE, "results.json")}: run bench/run.ts --only bulk`);
const file = join(ROOT, "docs/benchmarks.md");
const text = await readFile(file, "utf8");
const heading = text.split("\n").find((line) => line.startsWith("## Bulk add")) ?? "## Bulk add";
const section = bulkSection(results.bulk, results.machine ?? {});
await writeFile(file, replaceSection(text, heading, section.join("\n")));
console.log(`wrote the bulk section of ${file}`);
