/**
 * The published declarations may only import what every consumer has installed: Node's
 * own modules, our dependencies and our required peers. A type from an optional peer
 * (pg, bullmq, ioredis) or a devDependency breaks `tsc` with skipLibCheck: false in every
 * project that does not install it. The consumer install test finds this too, in minutes;
 * this finds it in a second.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/ensure_built.js";
import { ROOT } from "../helpers/fixtures.js";

const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const optionalPeers = new Set(Object.keys(manifest.peerDependenciesMeta ?? {}));
const alwaysInstalled = new Set([
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name)),
]);

/** "@scope/name/sub" → "@scope/name"; "zod/v4" → "zod". */
const packageOf = (specifier: string) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

it.each(["dist/index.d.ts", "dist/index.d.cts"])("%s imports only Node, dependencies and required peers", (file) => {
  const declarations = readFileSync(join(ROOT, file), "utf8");
  const specifiers = [...declarations.matchAll(/\bfrom ['"]([^'"]+)['"]|\bimport\(['"]([^'"]+)['"]\)/g)].map(
    (m) => m[1] ?? m[2],
  );
  expect(specifiers.length).toBeGreaterThan(0);
  const foreign = specifiers.filter((s) => !s.startsWith("node:") && !alwaysInstalled.has(packageOf(s)));
  expect(foreign).toEqual([]);
});
