import { describe, expect, it } from "vitest";
import { planChanges, planIndexing, planRemovals } from "../../src/indexer/index_plan.js";

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

  it("records a moved file's content at its new path and removes the old one, without embedding", () => {
    const result = plan([{ path: "/photos/new/a.png", hash: "A" }], [{ hash: "A", paths: ["/photos/old/a.png"] }]);
    expect(result.attach).toEqual([{ hash: "A", path: "/photos/new/a.png", kind: "added" }]);
    expect(result.embed).toEqual([]);
    expect(result.detach).toEqual([]);
    expect(result.remove).toEqual(["/photos/old/a.png"]);
  });

  it("embeds a new content found under several paths once, with all of them", () => {
    const result = plan(
      [
        { path: "/photos/z.png", hash: "N" },
        { path: "/photos/a.png", hash: "N" },
        { path: "/photos/m.png", hash: "A" },
      ],
      [{ hash: "A", paths: ["/photos/m.png"] }],
    );
    expect(result.embed).toEqual([{ hash: "N", paths: ["/photos/a.png", "/photos/z.png"] }]);
    expect(result.embedKinds).toEqual([
      ["/photos/z.png", "added"],
      ["/photos/a.png", "added"],
    ]);
    expect(result.unchanged).toEqual(["/photos/m.png"]);
  });

  it("detaches updated paths, and attaches them when their new content is stored (two files swapped)", () => {
    const result = plan(
      [
        { path: "/photos/a.png", hash: "B" },
        { path: "/photos/b.png", hash: "A" },
      ],
      [
        { hash: "A", paths: ["/photos/a.png"] },
        { hash: "B", paths: ["/photos/b.png"] },
      ],
    );
    expect(result.detach).toEqual(["/photos/a.png", "/photos/b.png"]);
    expect(result.attach).toEqual([
      { hash: "B", path: "/photos/a.png", kind: "updated" },
      { hash: "A", path: "/photos/b.png", kind: "updated" },
    ]);
    expect(result.embed).toEqual([]);
    expect(result.remove).toEqual([]);
  });
});

describe("planChanges", () => {
  it("plans one batch against the store's current state: a known content without paths is attached, not embedded", () => {
    // What the folder indexer does a batch at a time: "O" lost its last path in an
    // earlier batch (an orphan, kept until the run ends), and turns up again here.
    const owners = new Map([
      ["/photos/a.png", "A"],
      ["/photos/changed.png", "A"],
    ]);
    const known = new Set(["A", "O"]);
    const result = planChanges({
      files: [
        { path: "/photos/a.png", hash: "A" },
        { path: "/photos/changed.png", hash: "C" },
        { path: "/photos/moved-here.png", hash: "O" },
        { path: "/photos/copy-of-changed.png", hash: "C" },
      ],
      storedHashOf: (path) => owners.get(path),
      isKnown: (hash) => known.has(hash),
    });
    expect(result).toEqual({
      unchanged: ["/photos/a.png"],
      detach: ["/photos/changed.png"],
      attach: [{ hash: "O", path: "/photos/moved-here.png", kind: "added" }],
      embed: [{ hash: "C", paths: ["/photos/changed.png", "/photos/copy-of-changed.png"] }],
      embedKinds: [
        ["/photos/changed.png", "updated"],
        ["/photos/copy-of-changed.png", "added"],
      ],
    });
  });
});

describe("planRemovals", () => {
  it("removes stored paths the walk did not find, under the roots and outside unreadable folders, sorted", () => {
    const stored = new Set([
      "/photos/z.png",
      "/photos/kept.png",
      "/photos/locked/x.png",
      "/elsewhere/y.png",
      "/photos/b.png",
    ]);
    const removed = planRemovals(stored.values(), new Set(["/photos/kept.png"]), {
      isUnderRoots: (p) => p.startsWith("/photos/"),
      isProtected: (p) => p.startsWith("/photos/locked/"),
    });
    expect(removed).toEqual(["/photos/b.png", "/photos/z.png"]);
  });
});
