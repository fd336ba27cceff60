#!/usr/bin/env node
// Makes sure faiss-node's native addon exists, for the FAISS image store.
//
// Runs as this package's postinstall (here and in projects that depend on us).
// faiss-node's own install script downloads a prebuilt binary from GitHub and
// otherwise git-clones faiss; where neither is reachable it fails, so npm may skip
// it (package.json "allowScripts"). This script then:
//   1. keeps a faiss-node that already loads and works;
//   2. tries faiss-node's prebuilt binary (prebuild-install), which fails fast offline;
//   3. builds faiss-node's src/faiss.cc with node-gyp against a system faiss
//      (Debian/Ubuntu: `apt-get install libfaiss-dev`), with faiss's distance kernels
//      compiled for this CPU when it can (faiss-node/simd-kernels.mjs: 4x faster
//      search than Debian's generic build);
//   4. checks the result with a real search (an addon with the CPU's kernels that fails
//      it is built again with the generic ones).
// An addon it built earlier with the generic kernels is rebuilt once the CPU's can be had.
// If all of that fails it warns and exits 0, so that installing this package never
// breaks; LANGCHAIN_IMAGE_EMBEDDINGS_STRICT_FAISS=1 makes it exit 1 instead (CI).
//
// Environment:
//   LANGCHAIN_IMAGE_EMBEDDINGS_STRICT_FAISS=1  fail (exit 1) when faiss-node is unusable
//   LANGCHAIN_IMAGE_EMBEDDINGS_SKIP_FAISS=1    do nothing (you do not need the FAISS store)
//   LANGCHAIN_IMAGE_EMBEDDINGS_FAISS_SIMD=0    keep faiss's portable kernels (node_modules copied to other CPUs)
//   FAISS_SOURCE_DIR    faiss source of the same version as FAISS_LIB, for the CPU's kernels (default: apt-get source)
//   FAISS_INCLUDE_DIR   directory holding faiss/IndexFlat.h (default: /usr/include, /usr/local/include)
//   FAISS_LIB           libfaiss.a or libfaiss.so, or the directory holding it
//   npm_config_node_gyp, npm_config_nodedir   as npm sets them

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSimdKernels, cpuUnsupported } from "./faiss-node/simd-kernels.mjs";

const TAG = "[faiss-node]";
const HERE = path.dirname(fileURLToPath(import.meta.url));
const STRICT = process.env.LANGCHAIN_IMAGE_EMBEDDINGS_STRICT_FAISS === "1";
const PREBUILT_TIMEOUT_MS = 20_000;
const BUILD_TIMEOUT_MS = 15 * 60_000;

const log = (msg) => console.log(`${TAG} ${msg}`);

// A script that loads faiss-node from `dir` and does a real search plus a
// serialise/deserialise round trip. The round trip goes through faiss's
// write_index, which crashes when the addon was built without RTTI.
const SMOKE_TEST = `
  const faiss = require(process.argv[1]);
  const index = new faiss.IndexFlatL2(2);
  index.add([0, 0, 1, 1]);
  const r = faiss.Index.fromBuffer(index.toBuffer()).search([0.9, 0.9], 1);
  if (r.labels[0] !== 1) throw new Error('unexpected search result ' + JSON.stringify(r));
`;

/** The directory of the faiss-node package that our code will load, or null. */
function findFaissNodeDir() {
  // Resolve from this file, as our own code would: works nested or hoisted.
  for (const base of [import.meta.url, path.join(process.cwd(), "package.json")]) {
    try {
      return path.dirname(createRequire(base).resolve("faiss-node/package.json"));
    } catch {
      // try the next base
    }
  }
  return null;
}

/** True when faiss-node in `dir` loads and searches. Runs in a child: a bad binary may crash. */
function faissNodeWorks(dir) {
  const r = spawnSync(process.execPath, ["-e", SMOKE_TEST, dir], { encoding: "utf8", timeout: 60_000 });
  if (r.status === 0) return { ok: true };
  const why = (r.stderr || "")
    .trim()
    .split("\n")
    .find((l) => /Error|error:/.test(l));
  return { ok: false, why: why || r.error?.message || `exit ${r.status ?? r.signal}` };
}

/** Runs a command, capturing its output; returns { ok, output }. */
function run(cmd, args, options) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? `\n${r.error.message}` : ""}`;
  return { ok: r.status === 0, output };
}

const tail = (text, n = 30) => text.trim().split("\n").slice(-n).join("\n");

/** Step 2: faiss-node's own prebuilt binary from GitHub releases. */
function tryPrebuilt(dir) {
  let bin;
  try {
    bin = createRequire(path.join(dir, "package.json")).resolve("prebuild-install/bin.js");
  } catch {
    return { ok: false, why: "prebuild-install is not installed" };
  }
  log("trying the prebuilt binary from GitHub (prebuild-install)...");
  const r = run(process.execPath, [bin, "--runtime", "napi"], { cwd: dir, timeout: PREBUILT_TIMEOUT_MS });
  const lastLine = r.output.trim().split("\n").pop() || "no output (timed out?)";
  return r.ok ? { ok: true } : { ok: false, why: lastLine.replace(/^prebuild-install /, "") };
}

/** Linux library directories where a distribution or `make install` puts libfaiss. */
function libDirs() {
  const multiarch = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" }[process.arch];
  return [multiarch && `/usr/lib/${multiarch}`, "/usr/local/lib", "/usr/lib64", "/usr/lib"].filter(Boolean);
}

/** The system faiss to build against: { include, lib } or { why }. */
function findSystemFaiss() {
  const includeDirs = process.env.FAISS_INCLUDE_DIR
    ? [process.env.FAISS_INCLUDE_DIR]
    : ["/usr/include", "/usr/local/include"];
  const include = includeDirs.find((d) => fs.existsSync(path.join(d, "faiss", "IndexFlat.h")));
  if (!include) return { why: `faiss headers not found (looked for faiss/IndexFlat.h in ${includeDirs.join(", ")})` };

  const envLib = process.env.FAISS_LIB;
  const dirs = envLib && fs.statSync(envLib, { throwIfNoEntry: false })?.isDirectory() ? [envLib] : libDirs();
  // Prefer the static library: the addon then needs no libfaiss.so at run time.
  const candidates =
    envLib && !dirs.includes(envLib)
      ? [envLib]
      : dirs.flatMap((d) => [path.join(d, "libfaiss.a"), path.join(d, "libfaiss.so")]);
  const lib = candidates.find((f) => fs.existsSync(f));
  if (!lib) return { why: `libfaiss not found (looked for ${candidates.join(", ")})` };
  return { include, lib };
}

/** Returns [command, ...args] that runs node-gyp, or null. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp, // npm sets this in lifecycle scripts
    // npm's bundled copy, next to the npm that runs us or next to this node binary
    process.env.npm_execpath &&
      path.join(path.dirname(process.env.npm_execpath), "../node_modules/node-gyp/bin/node-gyp.js"),
    path.join(path.dirname(process.execPath), "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"),
  ].filter(Boolean);
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) return null;
  return found.endsWith(".js") ? [process.execPath, found] : [found];
}

/** node-gyp must not download Node's headers (often offline): point it at installed ones. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = path.resolve(path.dirname(process.execPath), ".."); // /usr for /usr/bin/node
  for (const dir of [prefix, "/usr"]) {
    if (fs.existsSync(path.join(dir, "include/node/node_api.h"))) return [`--nodedir=${dir}`];
  }
  return []; // node-gyp will try its cache, then a download
}

/** Which build tools are missing from PATH. */
function missingTools() {
  return ["make", "c++", "python3"].filter((tool) => !run("sh", ["-c", `command -v ${tool}`]).ok);
}

/** binding.gyp for faiss-node's single source file against a system faiss. */
function bindingGyp({ include, lib, napiInclude, compatHeader, kernelsObject }) {
  const libFlags = lib.endsWith(".so")
    ? [`-L${path.dirname(lib)}`, `-Wl,-rpath,${path.dirname(lib)}`, "-lfaiss"]
    : [lib];
  // Ahead of the library, so the linker takes these kernels and skips the library's own.
  if (kernelsObject) libFlags.unshift(kernelsObject);
  return {
    targets: [
      {
        target_name: "faiss-node", // bindings('faiss-node') loads build/Release/faiss-node.node
        sources: ["src/faiss.cc"],
        include_dirs: [napiInclude, include],
        // What faiss-node's CMakeLists/cmake-js build uses: N-API 6 with C++ exceptions.
        defines: ["NAPI_VERSION=6", "NAPI_CPP_EXCEPTIONS"],
        // node-gyp's defaults -fno-rtti/-fno-exceptions break faiss (dynamic_cast in write_index).
        "cflags!": ["-fno-exceptions"],
        "cflags_cc!": ["-fno-rtti", "-fno-exceptions"],
        cflags_cc: ["-std=c++17", "-frtti", "-fexceptions", "-fopenmp", "-O2", "-include", compatHeader],
        libraries: [...libFlags, "-lblas", "-llapack", "-fopenmp"],
      },
    ],
  };
}

/** What the addon in `dir` was built with, as recorded by this script: { kernels, why? } or null. */
const kernelsRecord = (dir) => path.join(dir, "build", "Release", "faiss-kernels.json");
function readKernelsRecord(dir) {
  try {
    return JSON.parse(fs.readFileSync(kernelsRecord(dir), "utf8"));
  } catch {
    return null;
  }
}

/** This CPU's distance kernels for the system faiss: { object, target } or { why }. */
function cpuKernels(dir, lib) {
  return buildSimdKernels({
    lib,
    cacheDir: path.join(dir, ".faiss-source"),
    outDir: path.join(dir, "faiss-kernels"),
    log,
  });
}

/** Step 3: build the addon with node-gyp against the system faiss. */
function buildFromSource(dir, kernels) {
  if (process.platform !== "linux")
    return { ok: false, why: `building from source is only supported on Linux (this is ${process.platform})` };
  const faiss = findSystemFaiss();
  if (faiss.why) return { ok: false, why: faiss.why };
  if (!fs.existsSync(path.join(dir, "src", "faiss.cc"))) return { ok: false, why: `${dir}/src/faiss.cc is missing` };
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) return { ok: false, why: "node-gyp not found (it ships with npm; set npm_config_node_gyp)" };
  const missing = missingTools();
  if (missing.length) return { ok: false, why: `build tools missing from PATH: ${missing.join(", ")}` };

  let napiInclude;
  try {
    napiInclude = path.dirname(createRequire(path.join(dir, "package.json")).resolve("node-addon-api/napi.h"));
  } catch {
    return { ok: false, why: "node-addon-api (a dependency of faiss-node) is not installed" };
  }

  // Keep the build inputs inside faiss-node's directory, so `node-gyp rebuild` there works again.
  const compatHeader = path.join(dir, "faiss-compat.h");
  fs.copyFileSync(path.join(HERE, "faiss-node", "compat.h"), compatHeader);
  kernels ??= cpuKernels(dir, faiss.lib);
  if (kernels.why) log(`distance kernels: faiss's generic ones (${kernels.why})`);

  const attempt = (kernelsObject) => {
    const gyp = bindingGyp({ ...faiss, napiInclude, compatHeader, kernelsObject });
    fs.writeFileSync(path.join(dir, "binding.gyp"), `${JSON.stringify(gyp, null, 2)}\n`);
    const [cmd, ...pre] = nodeGyp;
    return run(cmd, [...pre, "rebuild", "-j", "2", ...nodedirArgs()], { cwd: dir, timeout: BUILD_TIMEOUT_MS });
  };
  log(
    `building from source against ${faiss.lib} (headers in ${faiss.include})${kernels.object ? `, with ${kernels.target} distance kernels` : ""}...`,
  );
  const started = Date.now();
  let r = attempt(kernels.object);
  if (!r.ok && kernels.object) {
    log(`linking the ${kernels.target} kernels failed (${tail(r.output, 1)}); building with faiss's generic ones`);
    kernels = { why: `linking them failed: ${tail(r.output, 1)}` };
    r = attempt(undefined);
  }
  if (!r.ok) return { ok: false, why: `node-gyp failed; its last lines:\n${tail(r.output)}` };
  fs.writeFileSync(
    kernelsRecord(dir),
    `${JSON.stringify({ kernels: kernels.target ?? "generic", lib: faiss.lib, why: kernels.why })}\n`,
  );
  log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { ok: true };
}

/**
 * Step 3 and its check. An addon with the CPU's kernels that fails the check (a compiler
 * or CPU surprise) is built again with faiss's generic ones before giving up on it.
 */
function buildAndCheck(dir, kernels) {
  const built = buildFromSource(dir, kernels);
  if (!built.ok) return built;
  const check = faissNodeWorks(dir);
  if (check.ok) return { ok: true };
  const used = readKernelsRecord(dir)?.kernels;
  if (used === "generic") return { ok: false, why: `built, but the check failed: ${check.why}` };
  log(`the addon with ${used} kernels failed the check (${check.why}); building it with faiss's generic ones`);
  return buildAndCheck(dir, { why: `the ${used} kernels failed the check: ${check.why}` });
}

/**
 * An addon this script built with faiss's generic kernels, rebuilt with the CPU's once
 * they can be compiled (e.g. the source package could not be fetched last time). The
 * working addon is kept when they still cannot.
 */
function upgradeKernels(dir) {
  // Addons built from source before this record existed had the generic kernels.
  const builtHere = fs.existsSync(path.join(dir, "faiss-compat.h"));
  const record = readKernelsRecord(dir) ?? (builtHere ? { kernels: "generic", lib: findSystemFaiss().lib } : null);
  if (record?.kernels !== "generic" || !record.lib || cpuUnsupported()) return;
  const kernels = cpuKernels(dir, record.lib);
  if (kernels.why) return log(`keeping faiss's generic distance kernels (${kernels.why})`);
  const result = buildAndCheck(dir, kernels);
  if (!result.ok) return giveUp([`rebuilding the addon failed: ${result.why}`]);
  log(`ready: rebuilt with ${readKernelsRecord(dir)?.kernels} distance kernels`);
}

/** Where to tell the user to re-run this script from. */
function rerunCommand() {
  const base = process.env.INIT_CWD || process.cwd();
  const rel = path.relative(base, fileURLToPath(import.meta.url));
  return `node ${rel.startsWith("..") ? fileURLToPath(import.meta.url) : rel}`;
}

function giveUp(reasons) {
  const lines = [
    "WARNING: faiss-node's native addon is not available, so the FAISS image store of",
    "langchain-image-embeddings will not work (everything else does). Tried:",
    ...reasons.map((r) => `  - ${r.replace(/\n/g, "\n      ")}`),
    "To fix it, on Debian/Ubuntu:",
    "  sudo apt-get install -y libfaiss-dev libopenblas0-pthread build-essential python3",
    `  ${rerunCommand()}`,
    "(or `npm rebuild langchain-image-embeddings` where npm allows its install script).",
    "Elsewhere: install where github.com is reachable, so faiss-node's prebuilt binary downloads,",
    "or point FAISS_INCLUDE_DIR and FAISS_LIB at a faiss build and re-run the command above.",
  ];
  for (const line of lines) console.error(`${TAG} ${line}`);
  process.exit(STRICT ? 1 : 0);
}

function main() {
  if (process.env.LANGCHAIN_IMAGE_EMBEDDINGS_SKIP_FAISS === "1") {
    log("skipped (LANGCHAIN_IMAGE_EMBEDDINGS_SKIP_FAISS=1)");
    return;
  }
  const dir = findFaissNodeDir();
  if (!dir) return giveUp(["faiss-node is not installed (it is a dependency; run npm install)"]);

  const before = faissNodeWorks(dir);
  if (before.ok) {
    log(`already works (${dir})`);
    return upgradeKernels(dir);
  }

  log(`no working addon yet (${before.why})`);
  const reasons = [`existing faiss-node: ${before.why}`];
  const prebuiltAndCheck = (d) => {
    const fetched = tryPrebuilt(d);
    const check = fetched.ok ? faissNodeWorks(d) : fetched;
    return check.ok
      ? { ok: true }
      : { ok: false, why: fetched.ok ? `installed, but the check failed: ${check.why}` : fetched.why };
  };
  for (const [name, attempt] of [
    ["prebuilt binary", prebuiltAndCheck],
    ["source build", (d) => buildAndCheck(d)],
  ]) {
    const result = attempt(dir);
    if (result.ok) return log(`ready (${name}): faiss-node loads and searches`);
    log(`${name}: ${result.why.split("\n")[0]}`);
    reasons.push(`${name}: ${result.why}`);
  }
  giveUp(reasons);
}

main();
