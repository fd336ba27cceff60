/**
 * The README is also the package's page on npm, where relative links lead nowhere (docs/
 * and examples/ are not published): every link must be absolute or an anchor of the page,
 * and links into this repository must name files that exist.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/fixtures.js";

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const REPOSITORY = "langchain-image-embeddings/langchain-image-embeddings";
/** Links into this repository's main branch, with the path inside the repository as group 1. */
const OWN_LINK = new RegExp(
  `^https://(?:github\\.com/${REPOSITORY}/(?:blob|tree)/main|raw\\.githubusercontent\\.com/${REPOSITORY}/main)/([^#?]+)`,
);

/** The README without its fenced code blocks, whose brackets are code, not links. */
const prose = README.replace(/^```[\s\S]*?^```/gm, "");
const links = [...prose.matchAll(/\]\(([^)\s]+)\)|(?:href|src)="([^"]+)"/g)].map((m) => m[1] ?? m[2]);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
const anchors = new Set([...prose.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1].trim())));

describe("README links", () => {
  it("finds the links it checks", () => {
    expect(links.length).toBeGreaterThan(10);
    expect(anchors).toContain("install");
  });

  it("are absolute, or anchors of the page", () => {
    expect(links.filter((link) => !/^https:\/\//.test(link) && !link.startsWith("#"))).toEqual([]);
  });

  it("name existing headings when they are anchors", () => {
    expect(links.filter((link) => link.startsWith("#") && !anchors.has(link.slice(1)))).toEqual([]);
  });

  it("name files of this repository that exist when they point into it", () => {
    const own = links.flatMap((link) => OWN_LINK.exec(link)?.slice(1, 2) ?? []);
    expect(own).toContain("docs/models.md");
    expect(own.filter((path) => !existsSync(join(ROOT, decodeURIComponent(path))))).toEqual([]);
  });

  it("point into this repository's main branch, not at a fork or another branch", () => {
    const elsewhere = links.filter(
      (link) => link.includes(`/${REPOSITORY}/`) && !link.endsWith(`/${REPOSITORY}`) && !OWN_LINK.test(link),
    );
    expect(elsewhere).toEqual([]);
  });
});
