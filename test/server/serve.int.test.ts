/**
 * `image-embeddings serve`, run as the built CLI: HTTP safety checks (path traversal,
 * oversized uploads, URLs in queries, Host header), then the page itself in headless
 * Chromium (Debian's package, driven by playwright-core): text search, image upload,
 * "more like this", the duplicates view, and screenshots in test-artifacts/.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../helpers/fixtures.js";
import { renderShape } from "../helpers/shapes.js";
import { CLI, cliEnv, ensureBuilt, parseJson, runCli, TINY_CLIP, writeShapes, type ShapeFile } from "../cli/helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const ARTIFACTS = join(ROOT, "test-artifacts");

// One shape per colour, two drawings each: what ranks first is unambiguous.
const GALLERY: ShapeFile[] = [
  { file: "red-circle-1.png", colour: "red", shape: "circle", seed: 401 },
  { file: "red-circle-2.png", colour: "red", shape: "circle", seed: 402 },
  { file: "blue-square-1.png", colour: "blue", shape: "square", seed: 403 },
  { file: "blue-square-2.png", colour: "blue", shape: "square", seed: 404 },
  { file: "green-triangle-1.png", colour: "green", shape: "triangle", seed: 405 },
  { file: "green-triangle-2.png", colour: "green", shape: "triangle", seed: 406 },
  { file: "yellow-star-1.png", colour: "yellow", shape: "star", seed: 407 },
  { file: "yellow-star-2.png", colour: "yellow", shape: "star", seed: 408 },
];

let dir: string;
let photos: string;
let cleanup: () => Promise<void>;
let server: ChildProcess;
let base: string;
let port: number;
const MAX_UPLOAD = 1024 * 1024; // --max-upload-mb 1

interface Hit {
  id: string;
  path: string;
  paths: string[];
  score: number;
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir("lie-serve-"));
  photos = join(dir, "photos");
  await writeShapes(photos, GALLERY);
  await copyFile(join(photos, "yellow-star-1.png"), join(photos, "copy-of-yellow-star.png"));
  await ensureBuilt();
  const indexed = await runCli(["index", photos, "--index", join(dir, "index"), "--model", TINY_CLIP, "--json"]);
  expect(indexed.code, indexed.stderr).toBe(0);

  server = spawn(
    process.execPath,
    [CLI, "serve", "--index", join(dir, "index"), "--port", "0", "--max-upload-mb", "1"],
    {
      env: cliEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    server.stdout!.on("data", onData);
    server.stderr!.on("data", onData);
    server.on("exit", (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
  });
  port = Number(new URL(base).port);
}, 240_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  await cleanup?.();
});

/** A raw HTTP request: the path is sent exactly as given (fetch would resolve "../"). */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("serve: HTTP", () => {
  it("serves only indexed images: traversal attempts and unknown ids get 4xx", async () => {
    const attempts = [
      "/image/../../../../etc/passwd",
      "/thumb/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
      "/image/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/../../../../etc/passwd",
      "/image/" + encodeURIComponent(join(photos, "red-circle-1.png")),
      "/app.js/../../../package.json",
      "/image/" + "0".repeat(64),
      "/image/%E0%A4%A",
    ];
    for (const path of attempts) {
      const res = await raw(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(res.body).not.toMatch(/root:|"name"/);
    }
    const { results } = (await (await fetch(`${base}api/search?q=a%20red%20circle&k=1`)).json()) as {
      results: (Hit & { image: string; thumb: string })[];
    };
    const image = await fetch(new URL(results[0].image, base));
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/png");
    expect(image.headers.get("content-security-policy")).toContain("sandbox");
    const thumb = await fetch(new URL(results[0].thumb, base));
    expect(thumb.headers.get("content-type")).toBe("image/webp");
  });

  it("refuses oversized uploads with 413, whether announced or streamed", async () => {
    const big = Buffer.alloc(MAX_UPLOAD + 1, 7);
    const announced = await raw("/api/search-image", {
      method: "POST",
      headers: { "Content-Type": "image/png", "Content-Length": String(big.length) },
      body: big,
    });
    expect(announced.status).toBe(413);
    expect(JSON.parse(announced.body).error).toContain("too large");

    const streamed = await fetch(`${base}api/search-image`, {
      method: "POST",
      headers: { "Content-Type": "image/png" },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(MAX_UPLOAD / 2));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);

    const garbage = await fetch(`${base}api/search-image`, { method: "POST", body: Buffer.from("not an image") });
    expect(garbage.status).toBe(400);
  });

  it("never fetches or reads what a query names, and answers only to its own host name", async () => {
    for (const q of [
      "image:http://example.com/cat.jpg",
      "image:/etc/passwd + red",
      "image:" + join(photos, "red-circle-1.png"),
    ]) {
      const res = await fetch(`${base}api/search?q=${encodeURIComponent(q)}`);
      expect(res.status, q).toBe(400);
    }
    const rebound = await raw("/api/info", { headers: { Host: "attacker.example:80" } });
    expect(rebound.status).toBe(421);
    const page = await fetch(base);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'.*script-src 'self'/);
    for (const asset of ["", "app.js", "app.css"]) {
      expect(await (await fetch(base + asset)).text(), asset).not.toMatch(/https?:\/\//);
    }
  });
});

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`serve.int.test.ts: ${CHROMIUM} is missing (apt-get install chromium), so the browser test cannot run`);

describe.skipIf(!hasChromium)("serve: the page in Chromium", () => {
  it("searches by text, by uploaded image and by 'more like this', and shows duplicates", async () => {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const foreign: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(base) && !r.url().startsWith("blob:") && !r.url().startsWith("data:"))
          foreign.push(r.url());
      });
      await page.goto(base);
      await page.getByText(/8 images indexed/).waitFor();

      const cards = page.locator("#results .result");
      const paths = async () =>
        (await cards.evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.path!))).map((p) =>
          p.slice(photos.length + 1),
        );
      const thumbnailsLoaded = () =>
        cards
          .locator("img")
          .evaluateAll((imgs) =>
            imgs.every((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0),
          );

      // Text search: the two red circles come first, with thumbnails and scores.
      await page.fill("#query", "a red circle");
      await page.press("#query", "Enter");
      await page.getByText(/results for "a red circle"/).waitFor();
      expect((await paths()).slice(0, 2).sort()).toEqual(["red-circle-1.png", "red-circle-2.png"]);
      await expect.poll(thumbnailsLoaded).toBe(true);
      expect(await cards.first().locator(".score").textContent()).toMatch(/^-?\d\.\d{3}$/);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "serve-search.png"), fullPage: true });

      // Upload an image that is not in the index: the similar ones come back.
      const query = join(dir, "query-blue-square.png");
      await writeFile(
        query,
        await renderShape({ colour: "blue", shape: "square", seed: 499, width: 300, height: 260 }),
      );
      await page.setInputFiles("#upload", query);
      await page.getByText(/results for images like query-blue-square\.png/).waitFor();
      expect((await paths()).slice(0, 2).sort()).toEqual(["blue-square-1.png", "blue-square-2.png"]);
      await expect.poll(thumbnailsLoaded).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, "serve-upload.png"), fullPage: true });

      // Drag and drop an image file onto the page.
      const dropped = (
        await renderShape({ colour: "yellow", shape: "star", seed: 498, width: 260, height: 260 })
      ).toString("base64");
      const dataTransfer = await page.evaluateHandle((b64) => {
        const transfer = new DataTransfer();
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], "dropped-star.png", { type: "image/png" }));
        return transfer;
      }, dropped);
      await page.dispatchEvent("#drop", "drop", { dataTransfer });
      await page.getByText(/results for images like dropped-star\.png/).waitFor();
      // yellow-star-1.png and its copy are one entry, shown by its first path.
      expect((await paths()).slice(0, 2).sort()).toEqual(["copy-of-yellow-star.png", "yellow-star-2.png"]);
      const withCopy = cards.filter({ has: page.locator(".path", { hasText: "copy-of-yellow-star.png" }) });
      expect(await withCopy.locator(".name").textContent()).toBe("copy-of-yellow-star.png (+1 copy)");
      expect(await withCopy.locator(".path").textContent()).toBe(join(photos, "copy-of-yellow-star.png"));

      // "More like this" on a green triangle: the other green triangle first, itself left out.
      await page.fill("#query", "a green triangle");
      await page.press("#query", "Enter");
      await page.getByText(/results for "a green triangle"/).waitFor();
      const first = cards.first();
      const firstPath = (await first.getAttribute("data-path"))!.slice(photos.length + 1);
      expect(firstPath).toMatch(/^green-triangle-[12]\.png$/);
      await first.getByRole("button", { name: "More like this" }).click();
      await page.getByText(`results for images like ${firstPath}`).waitFor();
      const similar = await paths();
      expect(similar).not.toContain(firstPath);
      expect(similar[0]).toMatch(/^green-triangle-[12]\.png$/);
      await page.screenshot({ path: join(ARTIFACTS, "serve-more-like-this.png"), fullPage: true });

      // Duplicates: the byte-identical copy is listed with its original.
      // The tab loads groups at the default similarity (0.95); at 1 only the byte-identical copy is left.
      await page.click("#tab-duplicates");
      await page
        .locator("#duplicates-status")
        .filter({ hasText: /groups?\.$|No duplicates/ })
        .waitFor();
      await page.screenshot({ path: join(ARTIFACTS, "serve-duplicates.png"), fullPage: true });
      await page.fill("#threshold", "1");
      await page.click("#duplicates-form button");
      await page
        .locator("#duplicates-status")
        .filter({ hasText: /^1 group\.$/ })
        .waitFor();
      const group = page.locator(".group");
      expect(await group.locator("h2").textContent()).toBe("Group 1: 2 files, similarity 1.000");
      const groupPaths = await group
        .locator(".result")
        .evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.path!));
      expect(groupPaths.map((p) => p.slice(photos.length + 1)).sort()).toEqual([
        "copy-of-yellow-star.png",
        "yellow-star-1.png",
      ]);

      expect(foreign).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe("serve: while the index changes", () => {
  it("serves a re-indexed folder without a restart", async () => {
    await writeFile(
      join(photos, "purple-circle.png"),
      await renderShape({ colour: "purple", shape: "circle", seed: 497 }),
    );
    const indexed = await runCli(["index", photos, "--index", join(dir, "index"), "--json"]);
    expect(parseJson(indexed)).toMatchObject({ added: 1, entries: 9 });
    await expect
      .poll(async () => ((await (await fetch(`${base}api/info`)).json()) as { entries: number }).entries, {
        timeout: 10_000,
      })
      .toBe(9);
    const { results } = (await (await fetch(`${base}api/search?q=a%20purple%20circle&k=1`)).json()) as {
      results: Hit[];
    };
    expect(results[0].path).toBe(join(photos, "purple-circle.png"));
  });
});
