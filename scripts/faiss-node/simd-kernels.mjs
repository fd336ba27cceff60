// faiss's distance kernels compiled for this machine's CPU, linked into faiss-node's addon
// ahead of a static system libfaiss (see install-faiss-node.mjs).
//
// Why: Debian's libfaiss.a is built for any x86-64, so its inner products and L2
// distances (faiss/utils/distances_simd.cpp) are scalar loops. Flat search and HNSW
// spend nearly all their time there. The same file compiled with AVX2 and FMA made a
// single query over 100k 512-d vectors 4x faster on this project's machine (29 -> 7.5 ms).
// An object file that defines every symbol of that archive member keeps the linker
// from pulling the member in, so only these kernels change; the rest of faiss is the
// distribution's.
//
// The source must be the same faiss version as the library: FAISS_SOURCE_DIR names a
// faiss source tree, or on Debian/Ubuntu the library's source package is fetched with
// `apt-get source` (into a private apt state, leaving the system's sources alone).
//
// The kernels run on the CPU the addon was built on, as with `-march=native`; set
// LANGCHAIN_IMAGE_EMBEDDINGS_FAISS_SIMD=0 for a portable build (e.g. node_modules that
// will be copied to other machines).

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const KERNELS_SOURCE = "faiss/utils/distances_simd.cpp";
const APT_TIMEOUT_MS = 5 * 60_000;
const COMPILE_TIMEOUT_MS = 5 * 60_000;
/** The instruction sets the kernels are compiled for, and the /proc/cpuinfo flags that must all be present. */
const TARGET = { name: "avx2", flags: ["avx2", "fma", "f16c"], compilerFlags: ["-mavx2", "-mfma", "-mf16c"] };

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  return {
    ok: r.status === 0,
    stdout: r.stdout ?? "",
    output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? `\n${r.error.message}` : ""}`,
  };
}

const lastLine = (text) => text.trim().split("\n").filter(Boolean).pop() ?? "no output";

/** Why this CPU cannot run the kernels, or null when it can. */
export function cpuUnsupported() {
  if (process.env.LANGCHAIN_IMAGE_EMBEDDINGS_FAISS_SIMD === "0")
    return "turned off (LANGCHAIN_IMAGE_EMBEDDINGS_FAISS_SIMD=0)";
  if (process.arch !== "x64" || process.platform !== "linux")
    return `only built on x86-64 Linux (this is ${process.platform}-${process.arch})`;
  let cpuinfo;
  try {
    cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch (error) {
    return `cannot read /proc/cpuinfo: ${error.message}`;
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? "").trim().split(/\s+/));
  const missing = TARGET.flags.filter((f) => !flags.has(f));
  return missing.length ? `this CPU lacks ${missing.join(", ")}` : null;
}

/**
 * Compiles the kernels into `outDir` for a static `lib`. Returns { object, target } or { why }.
 * `cacheDir` keeps a fetched source package, so a rebuild does not fetch it again.
 */
export function buildSimdKernels({ lib, cacheDir, outDir, log }) {
  const unsupported = cpuUnsupported();
  if (unsupported) return { why: unsupported };
  if (!lib.endsWith(".a"))
    return { why: `${lib} is a shared library; the kernels can only replace members of a static libfaiss.a` };
  const member = run("ar", ["t", lib])
    .stdout.split("\n")
    .find((m) => /^distances_simd\.(cpp\.)?o$/.test(m));
  if (!member) return { why: `${lib} has no distances_simd member to replace` };
  const source = process.env.FAISS_SOURCE_DIR
    ? { dir: process.env.FAISS_SOURCE_DIR }
    : debianSource(lib, cacheDir, log);
  if (source.why) return source;
  if (!fs.existsSync(path.join(source.dir, KERNELS_SOURCE))) return { why: `${source.dir} holds no ${KERNELS_SOURCE}` };

  fs.mkdirSync(outDir, { recursive: true });
  const object = path.join(outDir, `distances_simd_${TARGET.name}.o`);
  const compiled = run(
    "c++",
    [
      "-std=c++17",
      "-O3",
      ...TARGET.compilerFlags,
      "-fPIC",
      "-fopenmp",
      `-I${source.dir}`,
      "-c",
      path.join(source.dir, KERNELS_SOURCE),
      "-o",
      object,
    ],
    { timeout: COMPILE_TIMEOUT_MS },
  );
  if (!compiled.ok) return { why: `compiling ${KERNELS_SOURCE} failed: ${lastLine(compiled.output)}` };

  // The object must stand in for the whole archive member, or the linker would pull the
  // member in as well and fail on duplicate symbols.
  const ours = new Set(definedSymbols(object));
  const missing = definedSymbols(lib, member).filter((symbol) => !ours.has(symbol));
  if (missing.length)
    return { why: `the compiled kernels lack ${missing.length} symbol(s) of the library's own, e.g. ${missing[0]}` };
  return { object, target: TARGET.name };
}

/** Global symbols an object (or one member of an archive) defines. */
function definedSymbols(file, member) {
  const list = (target) =>
    run("nm", ["--defined-only", "--extern-only", "--format=posix", target])
      .stdout.split("\n")
      .map((line) => line.split(" ")[0])
      .filter(Boolean);
  if (!member) return list(file);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faiss-member-"));
  try {
    run("ar", ["x", file, member], { cwd: dir });
    return list(path.join(dir, member));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The faiss source tree matching a Debian-packaged `lib`: { dir } or { why }. */
function debianSource(lib, cacheDir, log) {
  if (!run("sh", ["-c", "command -v apt-get && command -v dpkg-query"]).ok) {
    return { why: "not a Debian/Ubuntu system; set FAISS_SOURCE_DIR to the source of your faiss build" };
  }
  const owner = run("dpkg-query", ["-S", fs.realpathSync(lib)]);
  if (!owner.ok)
    return { why: `${lib} belongs to no Debian package; set FAISS_SOURCE_DIR to the source of your faiss build` };
  const binaryPackage = owner.stdout.split(":")[0].trim();
  const version = run("dpkg-query", ["-W", "-f", "${source:Package} ${source:Version}", binaryPackage]).stdout.trim();
  const [sourcePackage, sourceVersion] = version.split(" ");
  if (!sourcePackage || !sourceVersion) return { why: `dpkg knows no source package for ${binaryPackage}` };

  const dir = path.join(cacheDir, `${sourcePackage}-${sourceVersion}`);
  if (fs.existsSync(path.join(dir, KERNELS_SOURCE))) return { dir };

  log(`fetching the source of ${sourcePackage} ${sourceVersion} (apt-get source) for its distance kernels...`);
  fs.mkdirSync(cacheDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, ".fetch-"));
  try {
    const apt = privateAptOptions(work);
    if (apt.why) return apt;
    // Its exit status is not checked: one repository without sources (common for third-party
    // ones) fails the update while the distribution's lists still arrive. `source` judges.
    const updated = run("apt-get", [...apt.options, "update"], { timeout: APT_TIMEOUT_MS });
    const fetched = run("apt-get", [...apt.options, "source", "--download-only", `${sourcePackage}=${sourceVersion}`], {
      cwd: work,
      timeout: APT_TIMEOUT_MS,
    });
    const tarball = fs.readdirSync(work).find((f) => /\.orig\.tar\.(gz|xz|bz2)$/.test(f));
    if (!fetched.ok || !tarball) {
      return {
        why: `apt-get source ${sourcePackage}=${sourceVersion} failed: ${lastLine(fetched.output)} (update: ${lastLine(updated.output)})`,
      };
    }
    // The upstream tree; none of Debian's patches to faiss 1.7.3 touch the kernels.
    const staging = `${dir}.partial`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    const unpacked = run("tar", ["xf", path.join(work, tarball), "--strip-components=1", "-C", staging]);
    if (!unpacked.ok) return { why: `unpacking ${tarball} failed: ${lastLine(unpacked.output)}` };
    fs.renameSync(staging, dir);
    return { dir };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * apt-get options that read the system's package sources as `deb-src` entries and keep
 * every list and lock under `work`, so nothing of the system's apt state changes and no
 * root is needed.
 */
function privateAptOptions(work) {
  const parts = path.join(work, "sources.list.d");
  fs.mkdirSync(parts, { recursive: true });
  for (const sub of ["lists/partial", "cache/archives/partial"])
    fs.mkdirSync(path.join(work, sub), { recursive: true });

  const deb822 = [];
  const oneLine = [];
  const systemParts = "/etc/apt/sources.list.d";
  const files = [
    "/etc/apt/sources.list",
    ...(fs.existsSync(systemParts) ? fs.readdirSync(systemParts).map((f) => path.join(systemParts, f)) : []),
  ];
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, "utf8");
    if (file.endsWith(".sources")) {
      deb822.push(text.replace(/^Types:.*$/gim, "Types: deb-src"));
    } else if (file.endsWith(".list")) {
      oneLine.push(
        ...text
          .split("\n")
          .filter((l) => /^deb\s/.test(l))
          .map((l) => l.replace(/^deb\s/, "deb-src ")),
      );
    }
  }
  if (!deb822.length && !oneLine.length) return { why: "no apt package sources found in /etc/apt" };
  fs.writeFileSync(path.join(parts, "system.sources"), deb822.join("\n\n"));
  fs.writeFileSync(path.join(parts, "system.list"), `${oneLine.join("\n")}\n`);
  const options = [
    `-o`,
    `Dir::Etc::sourcelist=/dev/null`,
    `-o`,
    `Dir::Etc::sourceparts=${parts}`,
    `-o`,
    `Dir::State::Lists=${path.join(work, "lists")}`,
    `-o`,
    `Dir::Cache=${path.join(work, "cache")}`,
    `-o`,
    `Debug::NoLocking=true`,
    "-qq",
  ];
  return { options };
}
