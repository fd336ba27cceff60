/**
 * `serve` against hostile requests (issue 6, with the traversal and upload-size cases in
 * test/server/serve.int.test.ts): malformed uploads, garbage query parameters, and an
 * indexed file swapped for a symlink to a secret after indexing. Every one gets a 4xx
 * with a message, no stack, and nothing from outside the index.
 */
import { rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indexFolders, startImageServer, type RunningImageServer } from "../../src/index.js";
import { TINY_CLIP, tempDir } from "../helpers/fixtures.js";
import { writeShapes } from "../cli/helpers.js";

describe("serve: malformed requests", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: RunningImageServer;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("lie-serve-in-"));
    await writeShapes(join(dir, "photos"), [
      { file: "red-circle.png", colour: "red", shape: "circle", seed: 1 },
      { file: "blue-star.png", colour: "blue", shape: "star", seed: 2 },
      { file: "green-square.png", colour: "green", shape: "square", seed: 3 },
    ]);
    await indexFolders([join(dir, "photos")], { indexDir: join(dir, "index"), model: TINY_CLIP });
    server = await startImageServer({ indexDir: join(dir, "index"), port: 0, maxUploadBytes: 100_000 });
  });
  afterAll(async () => {
    await server?.close();
    await cleanup?.();
  });

  const expectRefused = async (response: Response, status: number, message: RegExp) => {
    const body = await response.text();
    expect(response.status, body).toBe(status);
    expect(JSON.parse(body).error).toMatch(message);
    expect(body).not.toMatch(/\n\s+at |node_modules|\/src\//);
  };

  it("refuses uploads that are empty, not images, truncated or SVG", async () => {
    const post = (body: BodyInit) => fetch(`${server.url}api/search-image`, { method: "POST", body });
    await expectRefused(await post(new Uint8Array(0)), 400, /Empty upload/);
    await expectRefused(await post("<html><body>hello</body></html>"), 400, /not an image/);
    await expectRefused(
      await post(Buffer.from("89504e470d0a1a0a0000000d49484452", "hex")),
      400,
      /corrupt|truncated|not an image/,
    );
    await expectRefused(
      await post('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      400,
      /SVG is not supported/,
    );
    await expectRefused(await post(new Uint8Array(200_000)), 413, /Upload too large/);
  });

  it("refuses garbage query parameters with the name of the parameter", async () => {
    const get = (path: string) => fetch(new URL(path, server.url));
    await expectRefused(await get("/api/search"), 400, /Missing query/);
    await expectRefused(await get("/api/search?q=%20%20"), 400, /Missing query/);
    for (const k of ["abc", "-1", "0", "1.5", "1e9", "NaN"])
      await expectRefused(await get(`/api/search?q=red&k=${k}`), 400, /k must be an integer from 1 to 200/);
    await expectRefused(
      await get("/api/search?q=image:/etc/passwd"),
      400,
      /Image terms \(image:\.\.\.\) are not accepted here/,
    );
    await expectRefused(await get("/api/search?q=red%20-blue"), 400, /ambiguous|Malformed query/);
    for (const threshold of ["abc", "2", "-5", "Infinity"])
      await expectRefused(await get(`/api/duplicates?threshold=${threshold}`), 400, /threshold must/);
    await expectRefused(await get("/api/similar/%ZZ"), 400, /Malformed id/);
    await expectRefused(await get("/api/similar/nope"), 404, /No such image/);
    await expectRefused(
      await fetch(`${server.url}api/search?q=red`, { method: "DELETE" }),
      405,
      /Method DELETE is not allowed/,
    );
    // A very long query is embedded like any other (truncated to the model's context), not an error.
    expect((await get(`/api/search?q=${"red ".repeat(2000)}`)).status).toBe(200);
  });

  it("never serves a file swapped for a symlink to a secret after indexing", async () => {
    const { results } = (await (await fetch(`${server.url}api/search?q=a%20red%20circle&k=3`)).json()) as {
      results: { path: string; image: string; thumb: string }[];
    };
    const red = results.find((r) => r.path.endsWith("red-circle.png"))!;
    const secret = join(dir, "secret.png");
    await writeFile(secret, "TOP SECRET");
    await rm(red.path);
    await symlink(secret, red.path);
    for (const path of [red.image, red.thumb]) {
      const response = await fetch(new URL(path, server.url));
      const body = await response.text();
      expect(response.status).toBe(404);
      expect(body).not.toContain("TOP SECRET");
      expect(JSON.parse(body).error).toMatch(/gone or has changed since it was indexed/);
    }
  });
});
