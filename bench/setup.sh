#!/usr/bin/env bash
# Set-up for `npm run bench`, done once and skipped when already there:
# the Python environment (from the local pip mirror; the PyTorch contender and the model
# builder use it) and the random-weight bench-vit-b32 model with its PyTorch weights.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  echo "bench: creating .venv from the local pip mirror (scripts/requirements.txt)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --retries 0 --index-url file:///opt/pypi/simple \
    --extra-index-url file:///opt/pypi-more/simple -r scripts/requirements.txt
  # open-clip-torch pulls in a torchvision that does not load with this CPU torch.
  .venv/bin/pip uninstall --quiet -y torchvision || true
fi

if [ ! -f .cache/models/bench-vit-b32/pytorch/model.safetensors ] || [ ! -f .cache/models/bench-vit-b32/onnx/vision_model_quantized.onnx ]; then
  echo "bench: building .cache/models/bench-vit-b32 (random weights, CLIP ViT-B/32 shapes; about 2 minutes)"
  .venv/bin/python scripts/models/build_bench_vit_b32.py --save-torch
fi
