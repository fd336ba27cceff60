#!/usr/bin/env bash
# One-shot, idempotent set-up for this repository; `npm run demo` and `npm test`
# call it first, so a second run must be cheap (about a second).
#
#   bash scripts/setup.sh [--with-browser]
#
# 1. Debian packages, installed only when missing (and only as root or with
#    password-less sudo): libfaiss-dev (FAISS, to build faiss-node's addon),
#    libopenblas0-pthread (fast BLAS for faiss: ~11x faster batched search than
#    the reference BLAS libfaiss-dev pulls in), redis-server (the queue of the
#    distributed-indexing tests, started by them as a child process; its system
#    service is not needed), a C++ tool chain for node-gyp, and with
#    --with-browser chromium (browser tests only).
# 2. `npm ci` when node_modules is missing or was installed from another
#    package-lock.json (stamp: node_modules/.setup-stamp). Its postinstall builds
#    faiss-node (scripts/install-faiss-node.mjs); when npm ci is not needed that
#    script still runs, cheaply, in case libfaiss-dev was installed since.
# 3. `npm run build` when dist/ is missing or older than its inputs (stamp:
#    node_modules/.setup-build-stamp). Only when stale: `npm test` stays fast to start.
#
# Environment: LANGCHAIN_IMAGE_EMBEDDINGS_STRICT_FAISS=1 makes a missing FAISS fatal.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

with_browser=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    -h | --help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "[setup] unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "[setup] $*"; }

# Runs "$@" with its output in a log; shows the log's tail only when it fails.
quietly() {
  local log status=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    say "failed ($status): $*"
    tail -n 40 "$log" | sed 's/^/    /' >&2
  fi
  rm -f "$log"
  return "$status"
}

# --- 1. Debian packages ----------------------------------------------------------

is_installed() { [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]; }

chromium_works() {
  timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom about:blank >/dev/null 2>&1
}

system_packages() {
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    say "not a Debian/Ubuntu system: install faiss (headers + libfaiss) yourself, or rely on faiss-node's prebuilt binary"
    return 0
  fi

  local wanted=(libfaiss-dev libopenblas0-pthread redis-server) missing=() pkg
  # node-gyp's tool chain; checked as commands since any provider will do.
  command -v c++ >/dev/null || wanted+=(g++)
  command -v make >/dev/null || wanted+=(make)
  command -v python3 >/dev/null || wanted+=(python3)
  [ "$with_browser" = 1 ] && wanted+=(chromium)
  for pkg in "${wanted[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0

  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo)
    else
      say "missing Debian packages: ${missing[*]}"
      say "  install them with: sudo apt-get install -y ${missing[*]}"
      say "  (continuing; the FAISS store, queue and browser tests fail until then)"
      return 0
    fi
  fi

  say "installing Debian packages: ${missing[*]}..."
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Use-Pty=0) started=$SECONDS
  quietly "${apt[@]}" update
  quietly "${apt[@]}" install -y --no-install-recommends "${missing[@]}"

  # Chromium's Depends should be enough to run headless; if not, add its Recommends.
  if [ "$with_browser" = 1 ] && ! chromium_works; then
    say "chromium does not start headless; installing its recommended packages too"
    quietly "${apt[@]}" install -y chromium
    chromium_works || { say "chromium still does not start headless"; return 1; }
  fi
  say "Debian packages installed in $((SECONDS - started)) s"
}

# --- 2. npm dependencies ---------------------------------------------------------

npm_dependencies() {
  local stamp=node_modules/.setup-stamp want
  # Native addons depend on Node's major version as well as on the lock file.
  want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node -p 'process.versions.node.split(".")[0]')"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    # Cheap when faiss-node already works; builds it when libfaiss-dev arrived since.
    local out status=0
    out=$(node scripts/install-faiss-node.mjs 2>&1) || status=$?
    grep -v 'already works' <<<"$out" || true
    return "$status"
  fi

  say "npm ci (node_modules is missing or was installed from another package-lock.json)..."
  local started=$SECONDS log status=0
  log=$(mktemp)
  npm ci --no-audit --no-fund >"$log" 2>&1 || status=$?
  # Our postinstall's lines say how faiss-node was provided; show them either way.
  grep -F '[faiss-node]' "$log" || true
  if [ "$status" -ne 0 ]; then
    say "npm ci failed ($status); last lines:"
    grep -vF '[faiss-node]' "$log" | tail -n 40 | sed 's/^/    /' >&2
    rm -f "$log"
    return "$status"
  fi
  rm -f "$log"
  echo "$want" >"$stamp"
  say "npm ci done in $((SECONDS - started)) s"
}

# --- 3. build --------------------------------------------------------------------

build() {
  if [ -z "$(node -p 'require("./package.json").scripts?.build ?? ""')" ]; then
    say "no build script in package.json; skipping the build"
    return 0
  fi
  # The stamp lives in node_modules, not dist/, which is published; npm ci resets it.
  local stamp=node_modules/.setup-build-stamp inputs=() f
  for f in src package.json tsconfig*.json tsup.config.*; do
    [ -e "$f" ] && inputs+=("$f")
  done
  if [ -d dist ] && [ -f "$stamp" ] && [ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit)" ]; then
    return 0
  fi

  say "npm run build..."
  local started=$SECONDS start_time
  start_time=$(date +%s) # edits made while it builds must count as newer than the stamp
  quietly npm run build
  touch -d "@$start_time" "$stamp"
  say "build done in $((SECONDS - started)) s"
}

system_packages
npm_dependencies
build
