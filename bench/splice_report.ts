/**
 * A partial benchmark run (`bench/run.ts --only ...`) writes only what it measured into the existing
 * docs/benchmarks.md: its `## ` sections and its rows of the Targets table. Everything else (the
 * header, other sections, hand-written prose, the "Kept from" part) stays as it is, because the
 * local results of other sections are often older than the file.
 */
import { replaceSection } from "./scale/markdown_section.js";

const TARGETS_HEADING = "## Targets";
const KEPT_MARKER = "**Kept from";

export interface SpliceOptions {
  /** The line put under each section's heading: when and on what it was measured, and the command. */
  measured: string;
  /** Openings of the notes under the Targets table, by the first cell of the row they explain. */
  noteOpenings: Record<string, string[]>;
}

/**
 * `previous` with the `## ` sections of `partial` (a report rendered from the ran sections' results
 * only) replacing those with the same heading, numbers aside, or inserted before the "Kept from" part
 * when new; and with the Targets rows of `partial` replacing those with the same first cell, the
 * notes of replaced rows with them. `partial`'s header is used only when there is no previous file.
 */
export function spliceReport(previous: string, partial: string, options: SpliceOptions): string {
  // No file yet: the partial report is all there is, and its header describes this run.
  if (!previous.trim()) return partial;
  let text = spliceTargets(previous, partial, options.noteOpenings);
  for (const section of sectionsOf(partial)) {
    const heading = section[0];
    if (heading.startsWith(TARGETS_HEADING)) continue;
    const rest = section.slice(section[1] === "" ? 2 : 1);
    const body = [heading, "", options.measured, "", ...rest].join("\n");
    const existing = text
      .split("\n")
      .find((line) => line.startsWith("## ") && headingKey(line) === headingKey(heading));
    text = existing ? replaceSection(text, existing.trim(), body) : insertSection(text, body);
  }
  return text;
}

/** Headings compared without their numbers: counts, sizes and cores change from run to run. */
function headingKey(heading: string): string {
  return heading.trim().replace(/\d[\d.,]*/g, "#");
}

/** A Targets row's first cell without its numbers and bracketed details (which carry measured values). */
function rowKey(row: string): string {
  return (row.split("|")[1] ?? "")
    .replace(/\([^)]*\)/g, "")
    .replace(/\d[\d.,]*/g, "#")
    .replace(/\s+/g, " ")
    .trim();
}

/** The `## ` sections of a document, each as its lines from the heading to the next `# `/`## ` heading. */
function sectionsOf(text: string): string[][] {
  const sections: string[][] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("## ")) sections.push([line]);
    else if (/^# /.test(line) || line.startsWith(KEPT_MARKER)) sections.push([]);
    else sections.at(-1)?.push(line);
  }
  return sections.filter((s) => s.length > 0 && s[0].startsWith("## "));
}

/** A new section goes before the "Kept from" part, which holds what the file's top header does not describe. */
function insertSection(text: string, section: string): string {
  const lines = text.split("\n");
  const kept = lines.findIndex((line) => line.startsWith(KEPT_MARKER));
  if (kept < 0) return [...(text.trim() ? [text.trimEnd(), ""] : []), section.trimEnd(), ""].join("\n");
  return [...lines.slice(0, kept), section.trimEnd(), "", ...lines.slice(kept)].join("\n");
}

/** Where the Targets table of a document is: its rows, and the notes under it up to the next section. */
function targetsOf(lines: string[]) {
  const heading = lines.findIndex((line) => line.startsWith(TARGETS_HEADING));
  if (heading < 0) return undefined;
  let end = heading + 1;
  while (end < lines.length && !/^#{1,2} /.test(lines[end]) && !lines[end].startsWith(KEPT_MARKER)) end++;
  // The table: its first "|" line is the header, the second the separator.
  const tableStart = lines.findIndex((line, i) => i > heading && i < end && line.startsWith("|"));
  if (tableStart < 0) return undefined;
  let tableEnd = tableStart;
  while (tableEnd < end && lines[tableEnd].startsWith("|")) tableEnd++;
  const notes = lines
    .slice(tableEnd, end)
    .join("\n")
    .split(/\n\s*\n/)
    .map((note) => note.trim())
    .filter(Boolean);
  return { heading, tableStart, tableEnd, end, rows: lines.slice(tableStart + 2, tableEnd), notes };
}

function spliceTargets(previous: string, partial: string, noteOpenings: Record<string, string[]>): string {
  const fresh = targetsOf(partial.split("\n"));
  if (!fresh?.rows.length) return previous;
  const lines = previous.split("\n");
  const old = targetsOf(lines);
  if (!old) {
    const section = partial.split("\n").slice(fresh.heading, fresh.end).join("\n");
    const firstSection = lines.findIndex((line) => line.startsWith("## "));
    if (firstSection < 0) return insertSection(previous, section);
    return [...lines.slice(0, firstSection), section.trimEnd(), "", ...lines.slice(firstSection)].join("\n");
  }
  const freshRows = new Map(fresh.rows.map((row) => [rowKey(row), row]));
  const rows = old.rows.map((row) => freshRows.get(rowKey(row)) ?? row);
  const oldKeys = new Set(old.rows.map(rowKey));
  rows.push(...fresh.rows.filter((row) => !oldKeys.has(rowKey(row))));

  // A rewritten row's notes are its new ones (none once its target is met), in place of its old ones.
  const owner = (note: string) =>
    Object.entries(noteOpenings).find(([, openings]) => openings.some((o) => note.startsWith(o)))?.[0];
  const replaced = (note: string) => {
    const row = owner(note);
    return row !== undefined && freshRows.has(rowKey(`|${row}|`));
  };
  const kept = old.notes.filter((note) => !replaced(note));
  const freshNotes = fresh.notes.filter((note) => !kept.includes(note));
  // The new notes go where the first replaced one was, else after the others.
  const at = old.notes.findIndex(replaced);
  const before = at < 0 ? kept : old.notes.slice(0, at);
  const after = at < 0 ? [] : old.notes.slice(at).filter((note) => !replaced(note));
  const notes = [...before, ...freshNotes, ...after];

  return [
    ...lines.slice(0, old.tableStart + 2),
    ...rows,
    ...notes.flatMap((note) => ["", note]),
    "",
    ...lines.slice(old.end),
  ].join("\n");
}
