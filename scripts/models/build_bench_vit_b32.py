"""Build `bench-vit-b32`: a RANDOM-weight CLIP with exactly the shapes of openai/clip-vit-base-patch32.

What
    A `transformers.CLIPModel` with the ViT-B/32 configuration (vision: 224 px, patch 32,
    hidden 768, 12 layers, 12 heads, MLP 3072; text: hidden 512, 12 layers, 8 heads,
    MLP 2048, vocab 49408, 77 positions; projection 512; quick_gelu), random weights from
    a fixed seed, exported in the same transformers.js layout as tiny-clip:

        <out>/config.json, preprocessor_config.json (shortest_edge 224, crop 224)
        <out>/tokenizer.json, tokenizer_config.json       (real CLIP BPE)
        <out>/onnx/vision_model.onnx, text_model.onnx     (fp32, ~350 MB + ~250 MB)
        <out>/onnx/vision_model_quantized.onnx, text_model_quantized.onnx (uint8 dynamic)
        <out>/pytorch/ (with --save-torch): model.safetensors + config.json, for a PyTorch benchmark
        <out>/build_info.json

Why
    Speed / memory benchmarks must run the real ViT-B/32 compute graph, but pretrained
    weights cannot be downloaded here. Embedding quality is meaningless (random weights);
    only timing, memory and I/O shapes are representative.

    Hundreds of MB: the default output is .cache/models/bench-vit-b32 (git-ignored). Never
    commit it. An existing complete build is reused unless --force.

Run (from the repository root):
    .venv/bin/python scripts/models/build_bench_vit_b32.py [--out DIR] [--force] [--save-torch]

    About 1-2 minutes on 2 cores (export + quantisation dominate).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clip_common as cc  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SEED = 32
REQUIRED = ["config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json",
            "onnx/vision_model.onnx", "onnx/text_model.onnx",
            "onnx/vision_model_quantized.onnx", "onnx/text_model_quantized.onnx", "build_info.json"]


def vit_b32_config():
    from transformers import CLIPConfig

    cfg = CLIPConfig(
        text_config=dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                         num_attention_heads=8, max_position_embeddings=77, hidden_act="quick_gelu",
                         bos_token_id=cc.BOS_ID, eos_token_id=cc.EOS_ID, pad_token_id=cc.EOS_ID, projection_dim=512),
        vision_config=dict(image_size=224, patch_size=32, hidden_size=768, intermediate_size=3072,
                           num_hidden_layers=12, num_attention_heads=12, hidden_act="quick_gelu", projection_dim=512),
        projection_dim=512,
        logit_scale_init_value=2.6592,
    )
    for c in (cfg, cfg.text_config, cfg.vision_config):
        c._attn_implementation = "eager"
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / ".cache/models/bench-vit-b32")
    ap.add_argument("--force", action="store_true", help="rebuild even if a complete build exists")
    ap.add_argument("--save-torch", action="store_true", help="also save_pretrained() the PyTorch weights to <out>/pytorch/")
    ap.add_argument("--no-quantize", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    out: Path = args.out

    if not args.force and all((out / f).exists() for f in REQUIRED) and (not args.save_torch or (out / "pytorch/config.json").exists()):
        print(f"{out} already built (use --force to rebuild)")
        return
    t0 = time.time()
    import torch
    from transformers import CLIPModel

    cc.set_determinism(SEED, args.threads)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    timings = {}

    t = time.time()
    cc.build_clip_tokenizer(out)
    cc.write_preprocessor_config(out, 224)
    cfg = vit_b32_config()
    torch.manual_seed(SEED)
    model = CLIPModel(cfg).eval()
    cfg.save_pretrained(str(out))
    timings["init_s"] = round(time.time() - t, 1)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"[model] random ViT-B/32 CLIP, {nparams / 1e6:.1f} M params ({timings['init_s']}s)", flush=True)

    if args.save_torch:
        t = time.time()
        model.save_pretrained(str(out / "pytorch"))
        timings["save_torch_s"] = round(time.time() - t, 1)

    t = time.time()
    diffs = cc.export_onnx(model, out, 224)
    timings["export_s"] = round(time.time() - t, 1)
    print(f"[onnx] exported + verified in {timings['export_s']}s: "
          f"{json.dumps({k: v for k, v in diffs.items() if 'diff' in k})}", flush=True)

    q8 = None
    if not args.no_quantize:
        t = time.time()
        cc.quantize(out)
        timings["quantize_s"] = round(time.time() - t, 1)
        # q8 vs fp32 cosine on random inputs (random weights: only a sanity figure)
        g = np.random.default_rng(0)
        px = g.standard_normal((4, 3, 224, 224)).astype(np.float32)
        ids = np.array([[cc.BOS_ID, 320, 736, 7117, cc.EOS_ID]], dtype=np.int64)
        res = {}
        for name, inp, feed, oname in [("vision", "vision_model", {"pixel_values": px}, "image_embeds"),
                                       ("text", "text_model", {"input_ids": ids}, "text_embeds")]:
            a = cc.ort_session(out / "onnx" / f"{inp}.onnx").run([oname], feed)[0]
            b = cc.ort_session(out / "onnx" / f"{inp}_quantized.onnx").run([oname], feed)[0]
            res[name] = float(np.min(np.sum(cc.normalise(a) * cc.normalise(b), 1)))
        q8 = res
        print(f"[q8] quantised in {timings['quantize_s']}s; min cosine q8 vs fp32 {json.dumps(res)}", flush=True)

    timings["total_s"] = round(time.time() - t0, 1)
    sizes = cc.file_sizes(out)
    info = {"model": "bench-vit-b32", "generator": "scripts/models/build_bench_vit_b32.py", "seed": SEED,
            "weights": "random (NOT pretrained)", "params": nparams, "versions": cc.package_versions(),
            "timings": timings, "onnx_check": diffs, "q8_vs_fp32_min_cosine": q8, "sizes": sizes}
    (out / "build_info.json").write_text(json.dumps(info, indent=1) + "\n")
    for k, v in cc.file_sizes(out).items():
        print(f"  {v:>12,d}  {k}")
    print(f"[done] {out} in {timings['total_s']}s")


if __name__ == "__main__":
    main()
