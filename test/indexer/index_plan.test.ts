import { describe, expect, it } from "vitest";
import { planIndexing } from "../../src/indexer/index_plan.js";

describe("planIndexing", () => {
  const plan = (files: { path: string; hash: string }[], stored: { hash: string; paths: string[] }[]) =>
    planIndexing({
      files,
      stored,
      known: new Set(stored.map((s) => s.hash)),
      isUnderRoots: (p) => p.startsWith("/photos/"),
      isProtected: (p) => p.startsWith("/photos/locked/"),
    });

  it("sorts files into unchanged, attach (stored content), embed (new content, grouped by hash) and remove", () => {
    const result = plan(
      [
        { path: "/photos/a.png", hash: "A" },
        { path: "/photos/copy-of-b.png", hash: "B" },
        { path: "/photos/c1.png", hash: "C" },
        { path: "/photos/c2.png", hash: "C" },
        { path: "/photos/changed.png", hash: "D" },
      ],
      [
        { hash: "A", paths: ["/photos/a.png"] },
        { hash: "B", paths: ["/photos/b.png"] },
        { hash: "E", paths: ["/photos/changed.png", "/photos/locked/e.png", "/elsewhere/e.png"] },
      ],
    );
    expect(result.unchanged).toEqual(["/photos/a.png"]);
    expect(result.attach).toEqual([{ hash: "B", path: "/photos/copy-of-b.png", kind: "added" }]);
    expect(result.embed).toEqual([
      { hash: "C", paths: ["/photos/c1.png", "/photos/c2.png"] },
      { hash: "D", paths: ["/photos/changed.png"] },
    ]);
    expect(result.embedKinds).toEqual([
      ["/photos/c1.png", "added"],
      ["/photos/c2.png", "added"],
      ["/photos/changed.png", "updated"],
    ]);
    expect(result.detach).toEqual(["/photos/changed.png"]);
    // b.png is gone; the locked folder's and the outside path are kept.
    expect(result.remove).toEqual(["/photos/b.png"]);
  });

  it("plans nothing for a folder the store already matches", () => {
    const result = plan([{ path: "/photos/a.png", hash: "A" }], [{ hash: "A", paths: ["/photos/a.png"] }]);
    expect(result).toEqual({
      unchanged: ["/photos/a.png"],
      detach: [],
      attach: [],
      embed: [],
      embedKinds: [],
      remove: [],
    });
  });
});
