/**
 * The bad-input corpus (issue 6), generated at test time: broken and mislabelled files,
 * images that are too big, valid images in unusual forms, and awkward names and
 * file-system cases. Each case says what it must do: embed (like its plain RGB
 * equivalent, when it has one) or fail with a named error code.
 */
import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import sharp, { type Sharp } from "sharp";
import type { ImageInputErrorCode } from "../../src/index.js";
import { renderShape } from "./shapes.js";

export type Expectation =
  { embeds: true; equivalent?: string } | { error: ImageInputErrorCode | ImageInputErrorCode[] };

export interface BadCase {
  name: string;
  path: string;
  expect: Expectation;
}

const SEED_BYTES = (n: number, seed: number) => {
  let s = seed;
  return Buffer.from(Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff));
};

/** A PNG with a real header that claims width × height, and a few KB of zlib data: a decompression bomb. */
function pngClaiming(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  // The first rows of zeros compress to almost nothing: a few KB that would inflate to 7.5 GB.
  const idat = deflateSync(Buffer.alloc(2_000_000));
  return Buffer.concat([
    Buffer.from("89504e470d0a1a0a", "hex"),
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The pixels to store so that a viewer applying EXIF `orientation` shows `upright`. */
async function storedForOrientation(upright: Buffer, orientation: number): Promise<Buffer> {
  const step = async (input: Buffer, op: (s: Sharp) => Sharp) => op(sharp(input)).png().toBuffer();
  switch (orientation) {
    case 2:
      return step(upright, (s) => s.flop());
    case 3:
      return step(upright, (s) => s.rotate(180));
    case 4:
      return step(upright, (s) => s.flip());
    case 5:
      return step(await step(upright, (s) => s.rotate(90)), (s) => s.flop()); // transpose
    case 6:
      return step(upright, (s) => s.rotate(270));
    case 7:
      return step(await step(upright, (s) => s.rotate(270)), (s) => s.flop()); // transverse
    case 8:
      return step(upright, (s) => s.rotate(90));
    default:
      return upright;
  }
}

export async function writeBadCorpus(dir: string): Promise<BadCase[]> {
  await mkdir(dir, { recursive: true });
  const cases: BadCase[] = [];
  const add = async (name: string, file: string, bytes: Buffer | string | null, expect: Expectation) => {
    const path = join(dir, file);
    if (bytes !== null) await writeFile(path, bytes);
    cases.push({ name, path, expect });
    return path;
  };
  // A non-square picture, so that a wrong rotation changes the crop.
  const upright = await renderShape({ colour: "orange", shape: "triangle", seed: 77, width: 320, height: 240 });
  const plainPng = await add("plain RGB PNG (reference)", "plain.png", upright, { embeds: true });
  const jpeg = await sharp(upright).jpeg({ quality: 95 }).toBuffer();
  const plainJpeg = await add("plain RGB JPEG (reference)", "plain.jpg", jpeg, { embeds: true });
  const webp = await sharp(upright).webp({ quality: 90 }).toBuffer();

  // Broken or mislabelled files.
  const corrupt: ImageInputErrorCode[] = ["CORRUPT_IMAGE", "UNSUPPORTED_FORMAT"];
  await add("truncated JPEG", "truncated.jpg", jpeg.subarray(0, Math.floor(jpeg.length * 0.4)), { error: corrupt });
  await add("truncated PNG", "truncated.png", upright.subarray(0, Math.floor(upright.length * 0.4)), {
    error: corrupt,
  });
  await add("truncated WebP", "truncated.webp", webp.subarray(0, Math.floor(webp.length * 0.4)), { error: corrupt });
  await add("zero-byte file", "empty.jpg", Buffer.alloc(0), { error: corrupt });
  await add("random bytes named .jpg", "random.jpg", SEED_BYTES(5000, 9), { error: corrupt });
  await add("HTML saved as .png", "page.png", "<!doctype html><html><body>Not found</body></html>", { error: corrupt });
  await add("text saved as .png", "notes.png", "just some notes\n", { error: corrupt });
  await add(
    "SVG with a script",
    "script.svg",
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>',
    { error: corrupt },
  );
  await mkdir(join(dir, "folder.jpg"));
  await add("a directory named x.jpg", "folder.jpg", null, { error: ["NOT_FOUND", "NOT_READABLE", "INVALID_INPUT"] });

  // Too big.
  await add("decompression bomb: a few KB of PNG claiming 50000×50000", "bomb.png", pngClaiming(50_000, 50_000), {
    error: "TOO_LARGE",
  });
  const panorama = await sharp({
    create: { width: 30_000, height: 200, channels: 3, background: { r: 40, g: 120, b: 200 } },
  })
    .jpeg()
    .toBuffer();
  await add("a 30000×200 panorama", "panorama.jpg", panorama, { embeds: true });

  // Valid images in unusual forms: each must embed like its plain equivalent.
  await add("CMYK JPEG", "cmyk.jpg", await sharp(upright).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer(), {
    embeds: true,
    equivalent: plainJpeg,
  });
  await add("16-bit PNG", "rgb16.png", await sharp(upright).toColourspace("rgb16").png().toBuffer(), {
    embeds: true,
    equivalent: plainPng,
  });
  const gray = await sharp(upright).grayscale().png().toBuffer();
  const plainGray = await add("grayscale PNG (reference)", "gray.png", gray, { embeds: true });
  await add("grayscale with alpha", "gray-alpha.png", await sharp(gray).ensureAlpha(1).png().toBuffer(), {
    embeds: true,
    equivalent: plainGray,
  });
  await add(
    "palette PNG",
    "palette.png",
    await sharp(upright).png({ palette: true, colours: 256, dither: 0 }).toBuffer(),
    { embeds: true, equivalent: plainPng },
  );
  const other = await renderShape({ colour: "blue", shape: "circle", seed: 5, width: 320, height: 240 });
  await add(
    "animated GIF (first frame used)",
    "animated.gif",
    await sharp([upright, other], { join: { animated: true } })
      .gif()
      .toBuffer(),
    { embeds: true, equivalent: plainPng },
  );
  await add(
    "animated WebP (first frame used)",
    "animated.webp",
    await sharp([upright, other], { join: { animated: true } })
      .webp({ lossless: true })
      .toBuffer(),
    { embeds: true, equivalent: plainPng },
  );
  for (let orientation = 1; orientation <= 8; orientation++) {
    const stored = await storedForOrientation(upright, orientation);
    const bytes = await sharp(stored).withMetadata({ orientation }).jpeg({ quality: 95 }).toBuffer();
    await add(`EXIF orientation ${orientation}`, `exif-${orientation}.jpg`, bytes, {
      embeds: true,
      equivalent: plainJpeg,
    });
  }

  // Awkward names and file-system cases.
  await add("unicode and spaces in the name", "ñandú 日本 photo (1).png", upright, {
    embeds: true,
    equivalent: plainPng,
  });
  const locked = await add(
    "an unreadable file (chmod 000)",
    "locked.png",
    upright,
    process.getuid?.() === 0 ? { embeds: true } : { error: "NOT_READABLE" },
  );
  await chmod(locked, 0o000);
  await symlink("loop-b.jpg", join(dir, "loop-a.jpg"));
  await symlink("loop-a.jpg", join(dir, "loop-b.jpg"));
  await add("a symlink loop", "loop-a.jpg", null, { error: ["NOT_FOUND", "NOT_READABLE"] });
  await add("a file deleted between listing and reading", "deleted.png", null, { error: "NOT_FOUND" });
  return cases;
}
