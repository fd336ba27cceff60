#!/usr/bin/env bash
# Issue 18 groundwork: install @langchain/community with transformers.js 4 in a fresh consumer project
# (the README's overrides recipe), check that it holds one transformers.js and one onnxruntime-node, and run
# community's HuggingFaceTransformersEmbeddings there, alone and beside a worker-thread image session.
#
#   bash scripts/community/consumer_check.sh [DIR]       (DIR: where to create the project; default a mktemp dir)
# Environment: TRANSFORMERS_VERSION (default 4.3.1), ROUNDS (default 20),
#   EXTRA_DEPS: more "name": "spec" pairs for package.json, e.g. '"langchain-image-embeddings": "file:/abs/x.tgz"'.
# Needs the npm registry; nothing else from the network: --ignore-scripts, and ONNXRUNTIME_NODE_INSTALL=skip for
# any later `npm rebuild` (onnxruntime-node's install script only fetches CUDA binaries; the CPU ones ship in its
# npm package). The environment variable does what .npmrc's `onnxruntime-node-install=skip` does, without npm 11's
# "Unknown project config" warnings.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$(mktemp -d /tmp/consumer-XXXXXX)}
version=${TRANSFORMERS_VERSION:-4.3.1}
mkdir -p "$dir"
cd "$dir"
export ONNXRUNTIME_NODE_INSTALL=skip
cat > package.json <<JSON
{
  "name": "community-consumer",
  "version": "1.0.0",
  "private": true,
  "type": "module",
  "dependencies": {
    "@huggingface/transformers": "$version",
    "@langchain/community": "1.1.29",
    "@langchain/core": "1.4.0"${EXTRA_DEPS:+,
    $EXTRA_DEPS}
  },
  "overrides": {
    "@huggingface/transformers": "\$@huggingface/transformers"
  }
}
JSON
echo "consumer project: $dir"
npm install --ignore-scripts --no-audit --no-fund --loglevel=error

# One copy of each: `npm ls --parseable` prints one path per installed copy.
for name in @huggingface/transformers onnxruntime-node; do
  copies=$(npm ls "$name" --all --parseable 2>/dev/null | sort -u | grep -c . || true)
  if [ "$copies" != 1 ]; then
    npm ls @huggingface/transformers onnxruntime-node --all
    echo "expected one copy of $name, found $copies" >&2
    exit 1
  fi
done
npm ls @huggingface/transformers onnxruntime-node --all

# The check scripts resolve packages from where they live, so they run from inside the consumer.
mkdir -p check
cp "$repo"/scripts/community/*.mjs check/
fixtures=$repo/test/fixtures
node check/embed_texts.mjs --model "$fixtures/models/tiny-bert" --reference "$fixtures/reference/tiny-bert.json"
node check/concurrent_embeddings.mjs --rounds "${ROUNDS:-20}" --text-model "$fixtures/models/tiny-bert" \
  --image-model "$fixtures/models/tiny-clip" --image "$fixtures/images/red-circle-80.png"
echo "consumer check passed"
