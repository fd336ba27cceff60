/** Replacing one "## " section of a Markdown file, leaving the rest as it is. */

/** `text` with the section starting at `heading` (up to the next "# " or "## " heading, or bench/report.ts's "Kept from" note) replaced by `section`, or appended. */
export function replaceSection(text: string, heading: string, section: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.trim() === heading);
  const body = section.trimEnd().split("\n");
  if (start < 0) return [...(text.trim() ? [text.trimEnd(), ""] : []), ...body, ""].join("\n");
  let end = start + 1;
  while (end < lines.length && !/^#{1,2} /.test(lines[end]) && !lines[end].startsWith("**Kept from")) end++;
  return [...lines.slice(0, start), ...body, "", ...lines.slice(end)].join("\n");
}
