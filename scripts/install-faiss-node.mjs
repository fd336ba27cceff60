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
//      It also compiles in entry points of our own (faiss-node/buffer-methods.cc: the typed-array
//      addBuffer, trainBuffer, searchBuffer, which bulk add at memory speed; setParameter and
//      getParameter through faiss's ParameterSpace; setNumThreads/getNumThreads for OpenMP);
//   4. checks the result with a real search (an addon with the CPU's kernels that fails
//      it is built again with the generic ones; one whose typed-array methods fail their
//      check, or do not compile, is built again without them).
// An addon it built earlier is rebuilt once the CPU's kernels can be had, or when it lacks
// this version of the typed-array methods. A prebuilt binary has no typed-array methods;
// the store then uses faiss-node's array methods.
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

// Checks the typed-array methods against the array path's answers, including a
// Float32Array that views the middle of a larger buffer, and an IVF index that is trained;
// then the parameter and thread methods compiled in with them.
const BUFFER_TEST = `
  const faiss = require(process.argv[1]);
  if (faiss.bufferMethodsVersion !== Number(process.argv[2]))
    throw new Error('bufferMethodsVersion is ' + faiss.bufferMethodsVersion + ', expected ' + process.argv[2]);
  const backing = new Float32Array([7, 7, 0, 0, 1, 1, 7]);
  const flat = new faiss.IndexFlatL2(2);
  flat.addBuffer(backing.subarray(2, 6));
  const r = flat.searchBuffer(new Float32Array([0.9, 0.9, 0.1, 0]), 2);
  if (!(r.labels instanceof Float64Array) || !(r.distances instanceof Float32Array))
    throw new Error('searchBuffer returned ' + Object.prototype.toString.call(r.labels));
  if (String(Array.from(r.labels)) !== '1,0,0,1') throw new Error('unexpected labels ' + Array.from(r.labels));
  if (Math.abs(r.distances[0] - 0.02) > 1e-6) throw new Error('unexpected distance ' + r.distances[0]);
  const ivf = faiss.Index.fromFactory(2, 'IVF1,Flat', faiss.MetricType.METRIC_L2);
  ivf.trainBuffer(new Float32Array([0, 0, 1, 1, 2, 2]));
  ivf.addBuffer(new Float32Array([0, 0, 1, 1, 2, 2]));
  const viaArray = ivf.search([1.9, 1.9], 3);
  const viaBuffer = ivf.searchBuffer(new Float32Array([1.9, 1.9]), 3);
  if (String(viaArray.labels) !== String(Array.from(viaBuffer.labels)) || viaArray.labels[0] !== 2)
    throw new Error('IVF searchBuffer ' + Array.from(viaBuffer.labels) + ' differs from search ' + viaArray.labels);
  let refused = false;
  try { flat.addBuffer(new Float32Array(3)); } catch { refused = true; }
  if (!refused) throw new Error('addBuffer accepted a partial row');
  // The asynchronous add: resolves once faiss holds the rows, rejects with faiss's message.
  const later = new faiss.IndexFlatL2(2);
  later.addBufferAsync(new Float32Array([0, 0, 1, 1])).then(() => {
    if (later.ntotal() !== 2) throw new Error('addBufferAsync left ' + later.ntotal() + ' rows, not 2');
    return faiss.Index.fromFactory(2, 'IVF1,Flat', faiss.MetricType.METRIC_L2).addBufferAsync(new Float32Array(2));
  }).then(() => { throw new Error('addBufferAsync into an untrained IVF resolved'); }, (error) => {
    if (!/trained/.test(error.message)) throw error;
  });
  // Parameters reach an IVF inside an OPQ pre-transform, survive serialisation, and HNSW over SQ8.
  const opq = faiss.Index.fromFactory(8, 'OPQ4,IVF4,PQ4', faiss.MetricType.METRIC_L2);
  opq.setParameter('nprobe', 3);
  const reread = faiss.Index.fromBuffer(opq.toBuffer());
  if (reread.getParameter('nprobe') !== 3 || reread.getParameter('nlist') !== 4)
    throw new Error('OPQ-wrapped IVF nprobe/nlist read back as ' + reread.getParameter('nprobe') + '/' + reread.getParameter('nlist'));
  const hnswSq = faiss.Index.fromFactory(8, 'HNSW8,SQ8', faiss.MetricType.METRIC_L2);
  hnswSq.setParameter('efSearch', 77);
  if (hnswSq.getParameter('efSearch') !== 77 || hnswSq.getParameter('nprobe') !== null)
    throw new Error('HNSW8,SQ8 efSearch/nprobe read back as ' + hnswSq.getParameter('efSearch') + '/' + hnswSq.getParameter('nprobe'));
  refused = false;
  try { flat.setParameter('nprobe', 2); } catch { refused = true; }
  if (!refused) throw new Error('setParameter accepted nprobe for a flat index');
  faiss.setNumThreads(1);
  if (faiss.getNumThreads() !== 1) throw new Error('getNumThreads is ' + faiss.getNumThreads() + ' after setNumThreads(1)');
`;

/** Our typed-array methods' source and version: { file, version }. */
function bufferMethodsSource() {
  const file = path.join(HERE, "faiss-node", "buffer-methods.cc");
  const version = Number(/constexpr uint32_t VERSION = (\d+);/.exec(fs.readFileSync(file, "utf8"))?.[1]);
  return { file, version };
}

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
const faissNodeWorks = (dir) => checkInChild(SMOKE_TEST, [dir]);

/** True when the addon in `dir` has working typed-array methods of `version`. */
const bufferMethodsWork = (dir, version) => checkInChild(BUFFER_TEST, [dir, String(version)]);

/** Runs a check script in a child Node: { ok } or { ok: false, why }. */
function checkInChild(script, args) {
  const r = spawnSync(process.execPath, ["-e", script, ...args], { encoding: "utf8", timeout: 60_000 });
  if (r.status === 0) return { ok: true };
  // The thrown error's own line, not the source line Node prints above it.
  const lines = (r.stderr || "").trim().split("\n");
  const why = lines.find((l) => /^\w*Error: /.test(l)) ?? lines.find((l) => /Error|error:/.test(l));
  return { ok: false, why: why || r.error?.message || `exit ${r.status ?? r.signal}` };
}

/** Runs a command, capturing its output; returns { ok, output }. */
function run(cmd, args, options) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? `\n${r.error.message}` : ""}`;
  return { ok: r.status === 0, output };
}

const tail = (text, n = 30) => text.trim().split("\n").slice(-n).join("\n");
/** The first line of a failure report, with the first compiler error in it if any. */
const firstError = (text) => {
  const lines = text.trim().split("\n");
  const error = lines.find((l) => /error:/.test(l));
  return error && error !== lines[0] ? `${lines[0]} ${error.trim()}` : lines[0];
};

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

/**
 * binding.gyp for faiss-node's source against a system faiss. With `bufferSource`, that
 * file (ours, which includes faiss-node's src/faiss.cc) is compiled instead of faiss.cc.
 */
function bindingGyp({ include, lib, napiInclude, compatHeader, kernelsObject, bufferSource }) {
  const libFlags = lib.endsWith(".so")
    ? [`-L${path.dirname(lib)}`, `-Wl,-rpath,${path.dirname(lib)}`, "-lfaiss"]
    : [lib];
  // Ahead of the library, so the linker takes these kernels and skips the library's own.
  if (kernelsObject) libFlags.unshift(kernelsObject);
  return {
    targets: [
      {
        target_name: "faiss-node", // bindings('faiss-node') loads build/Release/faiss-node.node
        sources: [bufferSource ? path.basename(bufferSource) : "src/faiss.cc"],
        include_dirs: [napiInclude, include, "src"],
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

/**
 * Step 3: build the addon with node-gyp against the system faiss. `buffers` is
 * bufferMethodsSource() to compile our typed-array methods in, or { why } to leave them out.
 */
function buildFromSource(dir, kernels, buffers) {
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
  const bufferSource = buffers.file && path.join(dir, "faiss-buffer-methods.cc");
  if (bufferSource) fs.copyFileSync(buffers.file, bufferSource);

  const attempt = (kernelsObject) => {
    const gyp = bindingGyp({ ...faiss, napiInclude, compatHeader, kernelsObject, bufferSource });
    fs.writeFileSync(path.join(dir, "binding.gyp"), `${JSON.stringify(gyp, null, 2)}\n`);
    const [cmd, ...pre] = nodeGyp;
    return run(cmd, [...pre, "rebuild", "-j", "2", ...nodedirArgs()], { cwd: dir, timeout: BUILD_TIMEOUT_MS });
  };
  log(
    `building from source against ${faiss.lib} (headers in ${faiss.include})${kernels.object ? `, with ${kernels.target} distance kernels` : ""}${bufferSource ? ", with typed-array methods" : ""}...`,
  );
  const started = Date.now();
  let r = attempt(kernels.object);
  // A compile error in our typed-array methods is theirs, not the kernels': buildAndCheck drops them.
  const methodsFailed = bufferSource && new RegExp(`${path.basename(bufferSource)}:\\d+:\\d+: error`).test(r.output);
  if (!r.ok && kernels.object && !methodsFailed) {
    log(`linking the ${kernels.target} kernels failed (${tail(r.output, 1)}); building with faiss's generic ones`);
    kernels = { why: `linking them failed: ${tail(r.output, 1)}` };
    r = attempt(undefined);
  }
  if (!r.ok) return { ok: false, why: `node-gyp failed; its last lines:\n${tail(r.output)}` };
  // bufferMethodsTried: the version last attempted, so a failed one is not retried at every install.
  const record = {
    kernels: kernels.target ?? "generic",
    lib: faiss.lib,
    why: kernels.why,
    bufferMethods: bufferSource ? buffers.version : null,
    bufferMethodsTried: bufferMethodsSource().version,
    bufferMethodsWhy: buffers.why && firstError(buffers.why),
  };
  fs.writeFileSync(kernelsRecord(dir), `${JSON.stringify(record)}\n`);
  log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { ok: true };
}

/**
 * Step 3 and its checks. An addon with the CPU's kernels that fails the check (a compiler
 * or CPU surprise) is built again with faiss's generic ones before giving up on it; one
 * whose typed-array methods do not compile or fail theirs is built again without them.
 */
function buildAndCheck(dir, kernels, buffers = bufferMethodsSource()) {
  const withoutBuffers = (why) => {
    log(`typed-array methods: ${firstError(why)}; building without them`);
    return buildAndCheck(dir, kernels, { why });
  };
  const built = buildFromSource(dir, kernels, buffers);
  if (!built.ok) return buffers.file ? withoutBuffers(`the build with them failed: ${built.why}`) : built;
  const check = faissNodeWorks(dir);
  const used = readKernelsRecord(dir)?.kernels;
  if (!check.ok) {
    if (used !== "generic") {
      log(`the addon with ${used} kernels failed the check (${check.why}); building it with faiss's generic ones`);
      return buildAndCheck(dir, { why: `the ${used} kernels failed the check: ${check.why}` }, buffers);
    }
    if (buffers.file) return withoutBuffers(`the addon with them failed the check: ${check.why}`);
    return { ok: false, why: `built, but the check failed: ${check.why}` };
  }
  if (buffers.file) {
    const bufferCheck = bufferMethodsWork(dir, buffers.version);
    if (!bufferCheck.ok) {
      // Keep the kernels that passed the check above.
      const passed = used === "generic" ? { why: readKernelsRecord(dir)?.why ?? "generic" } : undefined;
      log(`typed-array methods failed their check (${bufferCheck.why}); building without them`);
      return buildAndCheck(dir, passed, { why: `they failed their check: ${bufferCheck.why}` });
    }
  }
  return { ok: true };
}

/**
 * An addon this script built earlier, rebuilt when it has faiss's generic kernels and the
 * CPU's can now be compiled (e.g. the source package could not be fetched last time), or
 * when it lacks this version of the typed-array methods (built before they existed, or an
 * older version). The working addon is kept when nothing better can be had.
 */
function upgradeBuild(dir) {
  // Addons built from source before this record existed had the generic kernels.
  const builtHere = fs.existsSync(path.join(dir, "faiss-compat.h"));
  const record = readKernelsRecord(dir) ?? (builtHere ? { kernels: "generic", lib: findSystemFaiss().lib } : null);
  if (!record?.lib) return;
  const buffers = bufferMethodsSource();
  const wantBuffers = record.bufferMethods !== buffers.version && record.bufferMethodsTried !== buffers.version;
  let kernels;
  if (record.kernels === "generic") {
    const unsupported = cpuUnsupported();
    kernels = unsupported ? { why: unsupported } : cpuKernels(dir, record.lib);
  }
  const betterKernels = kernels !== undefined && !kernels.why;
  if (!betterKernels && !wantBuffers) {
    if (kernels?.why && record.kernels === "generic" && !cpuUnsupported())
      log(`keeping faiss's generic distance kernels (${kernels.why})`);
    return;
  }
  log(
    `rebuilding the addon${betterKernels ? " with this CPU's distance kernels" : ""}${wantBuffers ? ` with typed-array methods v${buffers.version}` : ""}`,
  );
  const result = buildAndCheck(dir, kernels);
  if (!result.ok) return giveUp([`rebuilding the addon failed: ${result.why}`]);
  const now = readKernelsRecord(dir);
  log(
    `ready: rebuilt with ${now?.kernels} distance kernels, ${now?.bufferMethods ? `typed-array methods v${now.bufferMethods}` : "without typed-array methods"}`,
  );
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
    return upgradeBuild(dir);
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
