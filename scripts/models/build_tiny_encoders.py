"""Build `tiny-vit` and `tiny-resnet`: random-weight image-only encoders for the tests.

What
    Two Hugging Face models with random weights from a fixed seed, exported in the
    transformers.js layout (config.json, preprocessor_config.json, onnx/model.onnx with
    input `pixel_values` and output `last_hidden_state`):
      test/fixtures/models/tiny-vit     ViTModel, 32 px, patch 8 (16 patches + CLS), width 32,
                                        2 layers; ViTImageProcessor (resize to 32×32, bilinear,
                                        mean/std 0.5).
      test/fixtures/models/tiny-resnet  ResNetModel, basic blocks, widths 8 and 16, a 16-channel
                                        feature map; ConvNextImageProcessor (shortest edge 36 =
                                        32 / crop_pct 0.875, centre crop 32, ImageNet mean/std).
    Plus test/fixtures/reference/tiny-encoders.json: for two fixture images, the outputs of
    the Hugging Face image processor + PyTorch forward pass, pooled (ViT: CLS and the mean
    of patch tokens; ResNet: the model's own pooler_output, a global average), for
    parity tests.

Why
    Issue 7: ViT (CLS pooling) and CNN (global pooling) encoders run through the same
    loading code as real Hub models such as google/vit-base-patch16-224 or
    microsoft/resnet-50. Random weights are enough to test loading, shapes, pooling and
    parity; tiny sizes keep them a few hundred KB.

Run (from the repository root; deterministic):
    .venv/bin/python scripts/models/build_tiny_encoders.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
import clip_common as cc  # noqa: E402

IMAGES = ["red-circle-80.png", "green-triangle-800x600.jpg"]


def export(model, out: Path, size: int, pooler: bool) -> None:
    import onnxruntime as ort

    (out / "onnx").mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(out)
    outputs = ["last_hidden_state"] + (["pooler_output"] if pooler else [])

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, pixel_values):
            o = self.m(pixel_values=pixel_values)
            return tuple(getattr(o, name) for name in outputs)

    px = torch.randn(2, 3, size, size)
    torch.onnx.export(Wrapper(model).eval(), (px,), str(out / "onnx/model.onnx"), dynamo=False, opset_version=17,
                      input_names=["pixel_values"], output_names=outputs,
                      dynamic_axes={"pixel_values": {0: "batch"}, **{n: {0: "batch"} for n in outputs}})
    model.eval()  # exporting toggles training mode on the wrapper and its children
    session = ort.InferenceSession(str(out / "onnx/model.onnx"), providers=["CPUExecutionProvider"])
    x = torch.randn(3, 3, size, size)
    with torch.no_grad():
        want = model(pixel_values=x).last_hidden_state.numpy()
    got = session.run(["last_hidden_state"], {"pixel_values": x.numpy()})[0]
    error = np.abs(got - want).max() / max(np.abs(want).max(), 1e-6)
    assert error < 1e-4, f"ONNX export does not match PyTorch (relative error {error})"


def main() -> None:
    from PIL import Image
    from transformers import ConvNextImageProcessor, ResNetConfig, ResNetModel, ViTConfig, ViTImageProcessor, ViTModel

    cc.set_determinism(0, 2)
    fixtures = REPO / "test/fixtures/models"
    reference = {}

    vit_dir = fixtures / "tiny-vit"
    vit = ViTModel(ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                             intermediate_size=64), add_pooling_layer=False).eval()
    vit_proc = ViTImageProcessor(size={"height": 32, "width": 32}, resample=2, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    vit_proc.save_pretrained(vit_dir)
    export(vit, vit_dir, 32, pooler=False)

    resnet_dir = fixtures / "tiny-resnet"
    torch.manual_seed(1)
    resnet = ResNetModel(ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic")).eval()
    resnet_proc = ConvNextImageProcessor(size={"shortest_edge": 32}, crop_pct=0.875, resample=3,
                                         image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
    resnet_proc.save_pretrained(resnet_dir)
    export(resnet, resnet_dir, 32, pooler=True)

    for name in IMAGES:
        image = Image.open(REPO / "test/fixtures/images" / name).convert("RGB")
        with torch.no_grad():
            tokens = vit(**vit_proc(image, return_tensors="pt")).last_hidden_state[0]
            pooled = resnet(**resnet_proc(image, return_tensors="pt")).pooler_output.flatten()
        reference[name] = {
            "vit_cls": tokens[0].tolist(),
            "vit_mean": tokens[1:].mean(0).tolist(),
            "resnet_mean": pooled.tolist(),
        }
    out = REPO / "test/fixtures/reference/tiny-encoders.json"
    out.write_text(json.dumps({"images": reference, "versions": cc.package_versions()}, indent=1))
    print(f"wrote {vit_dir}, {resnet_dir} and {out}")


if __name__ == "__main__":
    main()
