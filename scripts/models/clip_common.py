"""Shared helpers for the CLIP fixture builders (tiny-clip, bench-vit-b32).

* `build_clip_tokenizer(out_dir)` builds the REAL openai CLIP BPE tokenizer from the
  `bpe_simple_vocab_16e6.txt.gz` shipped inside the open-clip-torch wheel (no network):
  vocab/merges are reconstructed exactly like openai's `SimpleTokenizer`, fed to
  `transformers.CLIPTokenizer`, checked ("a red circle" -> 49406 320 736 7117 49407) and
  saved as a minified `tokenizer.json` + `tokenizer_config.json` (model_max_length 77,
  pad token "<|endoftext|>"). vocab.json / merges.txt are not kept: transformers.js
  and `tokenizers` only need tokenizer.json.
* `write_preprocessor_config(out_dir, size)` writes CLIPImageProcessor settings.
* `export_onnx(model, out_dir)` exports the two towers in the transformers.js layout
  (`onnx/vision_model.onnx`: pixel_values -> image_embeds, `onnx/text_model.onnx`:
  input_ids -> text_embeds, both UN-normalised projected embeddings, dynamic batch
  and sequence axes, opset 17, TorchScript exporter `dynamo=False`).
* `quantize(out_dir)` writes `*_quantized.onnx` with onnxruntime dynamic quantisation
  (uint8 weights for MatMul and Gather, so the 49408-row token embedding is 8-bit too;
  Conv is left in fp32 because ConvInteger is missing from onnxruntime-web).

Installation of the Python environment: see scripts/requirements.txt.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
from pathlib import Path

import numpy as np

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
BOS_ID, EOS_ID = 49406, 49407
VOCAB_SIZE = 49408


def package_versions() -> dict:
    import importlib.metadata as md
    import platform

    out = {"python": platform.python_version()}
    for p in ["torch", "transformers", "tokenizers", "onnx", "onnxruntime", "pillow", "numpy", "open-clip-torch"]:
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = None
    return out


def set_determinism(seed: int, threads: int = 2) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


# --------------------------------------------------------------------------- tokenizer


def bpe_gz_path() -> str:
    spec = importlib.util.find_spec("open_clip")  # locate only; importing open_clip needs torchvision
    if spec is None or spec.origin is None:
        raise SystemExit("open-clip-torch is not installed (needed for bpe_simple_vocab_16e6.txt.gz)")
    p = os.path.join(os.path.dirname(spec.origin), "bpe_simple_vocab_16e6.txt.gz")
    if not os.path.exists(p):
        raise SystemExit(f"missing {p}")
    return p


def _bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def write_vocab_merges(tmp_dir: Path) -> tuple[Path, Path]:
    """vocab.json / merges.txt exactly as openai CLIP's SimpleTokenizer builds them."""
    merges = gzip.open(bpe_gz_path()).read().decode("utf-8").split("\n")
    merges = merges[1 : 49152 - 256 - 2 + 1]
    vocab = list(_bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == VOCAB_SIZE, len(vocab)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    vp, mp = tmp_dir / "vocab.json", tmp_dir / "merges.txt"
    vp.write_text(json.dumps({v: i for i, v in enumerate(vocab)}, ensure_ascii=False), encoding="utf-8")
    mp.write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return vp, mp


def build_clip_tokenizer(out_dir: Path, tmp_dir: Path | None = None):
    import shutil
    import tempfile

    from transformers import CLIPTokenizer

    own_tmp = tmp_dir is None
    tmp = Path(tempfile.mkdtemp(prefix="clip-bpe-")) if own_tmp else tmp_dir
    try:
        vp, mp = write_vocab_merges(tmp)
        tok = CLIPTokenizer(vocab=str(vp), merges=str(mp))
        tok.model_max_length = 77
        ids = tok("a red circle").input_ids
        assert ids == [49406, 320, 736, 7117, 49407], ids
        assert tok.pad_token == "<|endoftext|>" and tok.pad_token_id == EOS_ID
        tok.save_pretrained(str(out_dir))
    finally:
        if own_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    keep = {"tokenizer.json", "tokenizer_config.json"}
    for name in ["vocab.json", "merges.txt", "special_tokens_map.json", "added_tokens.json", "chat_template.jinja"]:
        if name not in keep and (out_dir / name).exists():
            (out_dir / name).unlink()
    # minify tokenizer.json (3.6 MB indented -> 1.7 MB); content unchanged
    tj = out_dir / "tokenizer.json"
    data = json.loads(tj.read_text(encoding="utf-8"))
    tj.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    # reload from disk and re-check
    from transformers import AutoTokenizer

    tok2 = AutoTokenizer.from_pretrained(str(out_dir))
    ids2 = tok2("a red circle").input_ids
    assert ids2 == [49406, 320, 736, 7117, 49407], ids2
    return tok2


# --------------------------------------------------------------------------- configs


def write_preprocessor_config(out_dir: Path, size: int) -> None:
    cfg = {
        "crop_size": {"height": size, "width": size},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor",
        "image_mean": CLIP_MEAN,
        "image_processor_type": "CLIPImageProcessor",
        "image_std": CLIP_STD,
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": size},
    }
    (out_dir / "preprocessor_config.json").write_text(json.dumps(cfg, indent=2) + "\n")


# --------------------------------------------------------------------------- ONNX


def _wrappers(model):
    import torch

    class Vision(torch.nn.Module):
        """== CLIPVisionModelWithProjection(...).image_embeds"""

        def __init__(self, m):
            super().__init__()
            self.vision_model = m.vision_model
            self.visual_projection = m.visual_projection

        def forward(self, pixel_values):
            pooled = self.vision_model(pixel_values=pixel_values).pooler_output
            return self.visual_projection(pooled)

    class Text(torch.nn.Module):
        """== CLIPTextModelWithProjection(...).text_embeds (no attention_mask: causal mask + first-EOS pooling)"""

        def __init__(self, m):
            super().__init__()
            self.text_model = m.text_model
            self.text_projection = m.text_projection

        def forward(self, input_ids):
            pooled = self.text_model(input_ids=input_ids).pooler_output
            return self.text_projection(pooled)

    return Vision(model).eval(), Text(model).eval()


def export_onnx(model, out_dir: Path, image_size: int) -> dict:
    """Export both towers; return max abs diff vs PyTorch (checked with onnxruntime)."""
    import onnxruntime as ort
    import torch

    onnx_dir = out_dir / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    vision, text = _wrappers(model)
    g = torch.Generator().manual_seed(123)
    px = torch.randn(2, 3, image_size, image_size, generator=g)
    ids = torch.tensor([[BOS_ID, 320, 736, 7117, EOS_ID, EOS_ID, EOS_ID], [BOS_ID, 320, 1579, 5656, 3947, 320, EOS_ID]])
    with torch.no_grad():
        torch.onnx.export(
            vision, (px,), str(onnx_dir / "vision_model.onnx"), dynamo=False, opset_version=17,
            input_names=["pixel_values"], output_names=["image_embeds"],
            dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}},
            do_constant_folding=True,
        )
        torch.onnx.export(
            text, (ids,), str(onnx_dir / "text_model.onnx"), dynamo=False, opset_version=17,
            input_names=["input_ids"], output_names=["text_embeds"],
            dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"}, "text_embeds": {0: "batch_size"}},
            do_constant_folding=True,
        )
    # verify with onnxruntime, other batch / sequence sizes than the export example
    px3 = torch.randn(3, 3, image_size, image_size, generator=g)
    ids1 = torch.tensor([[BOS_ID, 320, 1125, 539, 320, 736, 7117, EOS_ID, EOS_ID, EOS_ID, EOS_ID]])
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    vs = ort.InferenceSession(str(onnx_dir / "vision_model.onnx"), so, providers=["CPUExecutionProvider"])
    ts = ort.InferenceSession(str(onnx_dir / "text_model.onnx"), so, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        pv, pt = vision(px3).numpy(), text(ids1).numpy()
    ov = vs.run(["image_embeds"], {"pixel_values": px3.numpy()})[0]
    ot = ts.run(["text_embeds"], {"input_ids": ids1.numpy()})[0]
    diff = {"vision_max_abs_diff": float(np.abs(ov - pv).max()), "text_max_abs_diff": float(np.abs(ot - pt).max())}
    assert diff["vision_max_abs_diff"] < 1e-3 and diff["text_max_abs_diff"] < 1e-3, diff
    # padding after the first EOS must not change the text embedding
    unpadded = ts.run(["text_embeds"], {"input_ids": ids1[:, :8].numpy()})[0]
    diff["text_pad_vs_unpadded_max_abs_diff"] = float(np.abs(unpadded - ot).max())
    assert diff["text_pad_vs_unpadded_max_abs_diff"] < 1e-5, diff
    for name, sess in [("vision", vs), ("text", ts)]:
        diff[f"{name}_io"] = {
            "inputs": [(i.name, i.type, i.shape) for i in sess.get_inputs()],
            "outputs": [(o.name, o.type, o.shape) for o in sess.get_outputs()],
        }
    return diff


def quantize(out_dir: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    onnx_dir = out_dir / "onnx"
    for name in ["vision_model", "text_model"]:
        quantize_dynamic(
            str(onnx_dir / f"{name}.onnx"),
            str(onnx_dir / f"{name}_quantized.onnx"),
            weight_type=QuantType.QUInt8,
            op_types_to_quantize=["MatMul", "Gather"],
            per_channel=False,
            reduce_range=False,
            extra_options={"EnableSubgraph": False},
        )


def ort_session(path: Path, threads: int = 2):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def pixel_values_from_uint8(arr_nhwc: np.ndarray) -> np.ndarray:
    """uint8 [N,S,S,3] (already resized + centre-cropped) -> CLIP-normalised float32 [N,3,S,S]."""
    x = arr_nhwc.astype(np.float32) * np.float32(1 / 255)
    x = (x - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def file_sizes(root: Path) -> dict:
    return {str(p.relative_to(root)): p.stat().st_size for p in sorted(root.rglob("*")) if p.is_file()}
