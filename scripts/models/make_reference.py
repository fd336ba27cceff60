"""Fixture images + reference embeddings for the tiny-clip model (Hugging Face reference pipeline).

What
    1. Writes small fixture images to test/fixtures/images/ (each shows one of the 24
       "colour shape" classes; the class is recorded in the JSON):
         red-circle-<S>.png         exactly S x S (S = the model input size, 80 for tiny-clip), RGB
         blue-square-<S>.png        exactly S x S, RGB
         green-triangle-800x600.jpg large, landscape, JPEG
         purple-star-600x800.jpg    large, portrait, JPEG
         orange-star-exif6.jpg      JPEG with EXIF Orientation = 6: pixels are stored rotated
                                    90 deg counter-clockwise (640x480); displayed upright it is
                                    480x640 with an orange star, i.e. exif_transpose() is needed
         blue-square-gray.png       grayscale (mode L) rendering of a blue square: only the
                                    shape is recognisable, the colour is not
         purple-triangle-rgba.png   RGBA with a transparent background (RGB of transparent
                                    pixels = 0,0,0)
         yellow-square-palette.png  palette image (mode P)
         green-star.webp            lossless WebP (lossless, so decoders agree bit-exactly)
         orange-circle-40x30.png    smaller than S: the processor upsamples it
    2. Computes reference embeddings with the Hugging Face pipeline on the same weights:
         images: PIL.Image.open -> ImageOps.exif_transpose (EXIF image only; transformers'
                 CLIPImageProcessor itself ignores EXIF) -> CLIPImageProcessor loaded from the
                 model dir (the PIL backend: convert("RGB"), which DROPS alpha without
                 compositing, shortest-edge bicubic resize, centre crop, rescale, normalise)
                 -> CLIPVisionModelWithProjection(...).image_embeds
         texts:  AutoTokenizer from the model dir (tokenizer.json), truncation=True,
                 max_length=77 -> CLIPTextModelWithProjection(...).text_embeds
       Both are checked against CLIPModel.get_image_features / get_text_features.
       The ONNX q8 embeddings (onnx/*_quantized.onnx on the same inputs) are stored too.
    3. Writes test/fixtures/reference/tiny-clip.json and prints, for every image, the
       cosine with its own caption and the rank of that caption among the 24 captions
       "a photo of a {colour} {shape}".

Prerequisite: the PyTorch weights written by build_tiny_clip.py to .cache/tiny-clip-torch/
(outside git). If they are missing, rerun build_tiny_clip.py (deterministic).

Run (from the repository root; ~20 s):
    .venv/bin/python scripts/models/make_reference.py
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clip_common as cc  # noqa: E402
import shapes  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

LONG_TEXT = (
    "a photo of a red circle next to a blue square and a green triangle under a yellow star, "
    "drawn on a white sheet of paper with a purple pencil, an orange crayon and a black marker, "
    "then scanned at a high resolution and saved as a compressed jpeg file that is uploaded to a "
    "website where many people look at it every single day and write long comments about the "
    "colours and the shapes that they see in the picture"
)
EXTRA_TEXTS = [
    ("long", LONG_TEXT),
    ("empty", ""),
    ("unicode", "un cercle rouge ☀️ 日本語 café"),
    ("mixed_case", "A RED Circle"),
    ("whitespace", "  a   red\tcircle \n"),
]

OUT_IMAGES = REPO / "test/fixtures/images"
OUT_REF = REPO / "test/fixtures/reference/tiny-clip.json"


# --------------------------------------------------------------------------- drawing


def draw_shape(size, shape, colour_rgb, cx, cy, radius, angle=0.0, bg=(255, 255, 255), ss=4, star_inner=0.45,
               mode="RGB", bg_alpha=None):
    """Antialiased filled shape (supersampled polygon mask), deterministic parameters."""
    w, h = size
    if shape == "circle":
        pts = [(math.cos(2 * math.pi * k / 128), math.sin(2 * math.pi * k / 128)) for k in range(128)]
    elif shape == "square":
        pts = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        pts = [(x / math.sqrt(2), y / math.sqrt(2)) for x, y in pts]
    elif shape == "triangle":
        pts = [(math.cos(math.radians(a)), math.sin(math.radians(a))) for a in (-90, 30, 150)]
    elif shape == "star":
        pts = [((1.0 if k % 2 == 0 else star_inner) * math.cos(-math.pi / 2 + math.pi * k / 5),
                (1.0 if k % 2 == 0 else star_inner) * math.sin(-math.pi / 2 + math.pi * k / 5)) for k in range(10)]
    else:
        raise ValueError(shape)
    ca, sa = math.cos(angle), math.sin(angle)
    poly = [((cx + radius * (x * ca - y * sa)) * ss, (cy + radius * (x * sa + y * ca)) * ss) for x, y in pts]
    mask = Image.new("L", (w * ss, h * ss), 0)
    ImageDraw.Draw(mask).polygon(poly, fill=255)
    mask = mask.resize((w, h), Image.BOX)
    if mode == "RGBA":
        base = Image.new("RGBA", (w, h), tuple(bg) + (bg_alpha,))
        fg = Image.new("RGBA", (w, h), tuple(colour_rgb) + (255,))
        # straight alpha: keep the fill colour where the mask is non-zero, alpha = mask
        out = Image.composite(fg, base, mask.point(lambda v: 255 if v > 0 else 0))
        a = np.asarray(out).copy()
        a[..., 3] = np.asarray(mask)
        return Image.fromarray(a, "RGBA")
    base = Image.new("RGB", (w, h), tuple(bg))
    return Image.composite(Image.new("RGB", (w, h), tuple(colour_rgb)), base, mask)


def gradient_bg(size, c1, c2):
    w, h = size
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    arr = np.array(c1, np.float32) * (1 - t) + np.array(c2, np.float32) * t
    return Image.fromarray(np.broadcast_to(np.rint(arr), (h, w, 3)).astype(np.uint8))


def make_images(out_dir: Path, S: int) -> list[dict]:
    """S: the model's input size (two images are drawn at exactly that size)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    items = []

    def save(name, img, cls, note=None, **save_kw):
        path = out_dir / name
        img.save(path, **save_kw)
        items.append({"file": name, "class": cls, **({"note": note} if note else {})})

    k = S / 96  # the drawing was designed at 96 px
    save(f"red-circle-{S}.png", draw_shape((S, S), "circle", (255, 0, 0), 48 * k, 48 * k, 30 * k), "red circle", optimize=True)
    save(f"blue-square-{S}.png", draw_shape((S, S), "square", (0, 0, 255), 46 * k, 50 * k, 34 * k, angle=0.2, bg=(240, 240, 240)),
         "blue square", optimize=True)

    img = draw_shape((800, 600), "triangle", (0, 128, 0), 410, 310, 200, bg=(250, 250, 245))
    save("green-triangle-800x600.jpg", img, "green triangle", quality=90)

    bg = gradient_bg((600, 800), (235, 235, 235), (190, 200, 210))
    star = draw_shape((600, 800), "star", (128, 0, 128), 300, 400, 210, angle=0.1, bg=(0, 0, 0))
    mask = draw_shape((600, 800), "star", (255, 255, 255), 300, 400, 210, angle=0.1, bg=(0, 0, 0)).convert("L")
    save("purple-star-600x800.jpg", Image.composite(star, bg, mask), "purple star", quality=88)

    # EXIF orientation 6: upright 480x640 portrait; stored rotated 90 deg CCW (640x480);
    # a viewer rotates it 90 deg clockwise to display it upright.
    upright = draw_shape((480, 640), "star", (255, 140, 0), 240, 300, 170, bg=(245, 245, 250))
    # an asymmetric dark bar at the top of the upright image, so orientation is visible
    ImageDraw.Draw(upright).rectangle([0, 0, 479, 40], fill=(60, 60, 60))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(out_dir / "orange-star-exif6.jpg", quality=90, exif=exif.tobytes())
    check = ImageOps.exif_transpose(Image.open(out_dir / "orange-star-exif6.jpg"))
    assert check.size == (480, 640), check.size
    diff = np.abs(np.asarray(check, np.int16) - np.asarray(upright, np.int16)).mean()
    assert diff < 3, diff  # only JPEG noise
    items.append({"file": "orange-star-exif6.jpg", "class": "orange star",
                  "note": "EXIF Orientation 6; stored 640x480 rotated 90 deg CCW; upright 480x640 "
                          "(dark bar at the top when upright). Reference applies ImageOps.exif_transpose first."})

    gray = draw_shape((200, 200), "square", (30, 60, 230), 100, 100, 70, angle=0.5, bg=(250, 250, 250)).convert("L")
    save("blue-square-gray.png", gray, "blue square",
         note="grayscale (mode L) rendering of a blue square: the colour is not recoverable, only the shape", optimize=True)

    rgba = draw_shape((128, 128), "triangle", (150, 40, 200), 64, 70, 50, bg=(0, 0, 0), mode="RGBA", bg_alpha=0)
    save("purple-triangle-rgba.png", rgba, "purple triangle",
         note="RGBA, transparent background stored as RGB 0,0,0 alpha 0. CLIPImageProcessor (PIL convert('RGB')) "
              "DROPS alpha without compositing, so the reference sees a purple triangle on BLACK.", optimize=True)

    pal = draw_shape((150, 100), "square", (255, 215, 0), 75, 50, 42, bg=(70, 130, 180))
    pal = pal.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    assert pal.mode == "P"
    save("yellow-square-palette.png", pal, "yellow square", note="palette image (mode P, 16 colours)", optimize=True)

    webp = draw_shape((300, 200), "star", (50, 205, 50), 150, 100, 85, angle=0.3, bg=(255, 255, 255))
    save("green-star.webp", webp, "green star", note="lossless WebP", lossless=True, quality=100, method=6)

    tiny = draw_shape((40, 30), "circle", (255, 165, 0), 20, 15, 11, bg=(255, 255, 255))
    save("orange-circle-40x30.png", tiny, "orange circle", note="smaller than the model input: upsampled", optimize=True)
    return items


# --------------------------------------------------------------------------- reference


def r8(x) -> list[float]:
    return [float(f"{v:.8g}") for v in np.asarray(x, dtype=np.float64).ravel()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=REPO / "test/fixtures/models/tiny-clip")
    ap.add_argument("--torch-weights", type=Path, default=REPO / ".cache/tiny-clip-torch")
    ap.add_argument("--images", type=Path, default=OUT_IMAGES)
    ap.add_argument("--out", type=Path, default=OUT_REF)
    args = ap.parse_args()

    import torch
    from transformers import (AutoTokenizer, CLIPImageProcessor, CLIPModel, CLIPTextModelWithProjection,
                              CLIPVisionModelWithProjection)

    torch.set_num_threads(2)
    if not (args.torch_weights / "config.json").exists():
        raise SystemExit(f"{args.torch_weights} missing: run scripts/models/build_tiny_clip.py first")

    size = json.loads((args.model / "preprocessor_config.json").read_text())["crop_size"]
    items = make_images(args.images, size["height"] if isinstance(size, dict) else int(size))

    proc = CLIPImageProcessor.from_pretrained(str(args.model))  # PIL backend without torchvision
    tok = AutoTokenizer.from_pretrained(str(args.model))
    vis = CLIPVisionModelWithProjection.from_pretrained(str(args.torch_weights)).eval()
    txt = CLIPTextModelWithProjection.from_pretrained(str(args.torch_weights)).eval()
    full = CLIPModel.from_pretrained(str(args.torch_weights)).eval()
    S = proc.crop_size["height"]
    vq = cc.ort_session(args.model / "onnx/vision_model_quantized.onnx")
    tq = cc.ort_session(args.model / "onnx/text_model_quantized.onnx")
    vf = cc.ort_session(args.model / "onnx/vision_model.onnx")
    tf = cc.ort_session(args.model / "onnx/text_model.onnx")

    # ---------------- texts
    captions = [shapes.ZERO_SHOT_TEMPLATE.format(c=c, s=s) for c, s in shapes.CLASSES]
    all_texts = [("class_caption", t) for t in captions] + EXTRA_TEXTS
    texts = []
    for kind, t in all_texts:
        enc = tok(t, truncation=True, max_length=77)
        ids = enc.input_ids
        full_len = len(tok(t).input_ids)
        with torch.no_grad():
            it = torch.tensor([ids])
            emb = txt(input_ids=it).text_embeds[0].numpy()
            emb2 = full.get_text_features(input_ids=it).pooler_output[0].numpy()
        assert np.abs(emb - emb2).max() < 1e-5
        onnx_emb = tf.run(None, {"input_ids": it.numpy()})[0][0]
        assert np.abs(onnx_emb - emb).max() < 1e-4, np.abs(onnx_emb - emb).max()
        q = tq.run(None, {"input_ids": it.numpy()})[0][0]
        texts.append({
            "text": t, "kind": kind, "input_ids": ids, "untruncated_length": full_len, "truncated": full_len > 77,
            "embedding": r8(emb), "normalized_embedding": r8(cc.normalise(emb)), "embedding_q8": r8(q),
        })
    long_entry = next(x for x in texts if x["kind"] == "long")
    assert long_entry["truncated"] and len(long_entry["input_ids"]) == 77 and long_entry["input_ids"][-1] == cc.EOS_ID
    assert next(x for x in texts if x["kind"] == "empty")["input_ids"] == [cc.BOS_ID, cc.EOS_ID]
    assert next(x for x in texts if x["kind"] == "mixed_case")["input_ids"] == [49406, 320, 736, 7117, 49407]
    cap_emb = cc.normalise(np.array([x["embedding"] for x in texts[:24]], dtype=np.float32))

    # ---------------- images
    images = []
    print(f"{'file':28s} {'class':16s} own-cos  rank  top1")
    for it_ in items:
        path = args.images / it_["file"]
        raw = Image.open(path)
        raw.load()
        fmt, mode, (w, h) = raw.format, raw.mode, raw.size
        orientation = raw.getexif().get(0x0112, 1)
        img = ImageOps.exif_transpose(raw) if orientation != 1 else raw
        pv = proc(images=img, return_tensors="pt")["pixel_values"]
        assert tuple(pv.shape) == (1, 3, S, S)
        with torch.no_grad():
            emb = vis(pixel_values=pv).image_embeds[0].numpy()
            emb2 = full.get_image_features(pixel_values=pv).pooler_output[0].numpy()
        assert np.abs(emb - emb2).max() < 1e-5
        onnx_emb = vf.run(None, {"pixel_values": pv.numpy()})[0][0]
        assert np.abs(onnx_emb - emb).max() < 1e-4, np.abs(onnx_emb - emb).max()
        q = vq.run(None, {"pixel_values": pv.numpy()})[0][0]
        sims = cap_emb @ cc.normalise(emb)
        order = list(np.argsort(-sims))
        k = shapes.CLASS_NAMES.index(it_["class"])
        pvn = pv.numpy().astype(np.float32)
        entry = {
            **it_, "format": fmt, "mode": mode, "width": w, "height": h, "orientation": orientation,
            "exif_transposed": orientation != 1,
            "upright_width": img.size[0], "upright_height": img.size[1],
            "embedding": r8(emb), "normalized_embedding": r8(cc.normalise(emb)), "embedding_q8": r8(q),
            "pixel_values": {
                "shape": [1, 3, S, S],
                "sum": float(pvn.sum(dtype=np.float64)), "mean": float(pvn.mean(dtype=np.float64)),
                "first": r8(pvn.ravel()[:8]),
                "center": r8(pvn[0, :, S // 2, S // 2]),
                "sha256_float32": hashlib.sha256(pvn.tobytes()).hexdigest(),
            },
            "caption_ranking": {
                "own_caption": captions[k], "own_cosine": round(float(sims[k]), 6), "rank_of_own_caption": order.index(k) + 1,
                "top1_caption": captions[order[0]], "top1_cosine": round(float(sims[order[0]]), 6),
            },
        }
        if orientation != 1:  # what a pipeline that ignores EXIF would produce (useful negative check)
            pv_raw = proc(images=raw, return_tensors="pt")["pixel_values"]
            with torch.no_grad():
                e_raw = vis(pixel_values=pv_raw).image_embeds[0].numpy()
            entry["embedding_ignoring_exif"] = r8(e_raw)
            entry["cosine_upright_vs_ignoring_exif"] = round(float(cc.normalise(e_raw) @ cc.normalise(emb)), 6)
        images.append(entry)
        cr = entry["caption_ranking"]
        print(f"{it_['file']:28s} {it_['class']:16s} {cr['own_cosine']:.4f}  {cr['rank_of_own_caption']:4d}  {cr['top1_caption']}")
        if orientation != 1:
            print(f"    cosine(upright, ignoring EXIF) = {entry['cosine_upright_vs_ignoring_exif']:.4f}")

    cfg = json.loads((args.model / "config.json").read_text())
    doc = {
        "model": "tiny-clip",
        "model_dir": str(args.model.relative_to(REPO)) if args.model.is_relative_to(REPO) else str(args.model),
        "generator": "scripts/models/make_reference.py",
        "versions": cc.package_versions(),
        "image_size": S,
        "projection_dim": cfg["projection_dim"],
        "pipeline": {
            "images": "PIL.Image.open -> ImageOps.exif_transpose (only when EXIF Orientation != 1) -> "
                      "transformers CLIPImageProcessor (PIL backend) from preprocessor_config.json: convert('RGB') "
                      "(drops alpha, no compositing), resize shortest edge to S (PIL bicubic), centre crop SxS, "
                      "x/255, normalise with CLIP mean/std -> CLIPVisionModelWithProjection.image_embeds",
            "texts": "AutoTokenizer(tokenizer.json)(text, truncation=True, max_length=77) -> "
                     "CLIPTextModelWithProjection.text_embeds (single sequence, no padding)",
            "embedding": "projected, UN-normalised; normalized_embedding = embedding / ||embedding||",
            "embedding_q8": "onnxruntime on onnx/*_quantized.onnx with the same pixel_values / input_ids",
            "alpha": "dropped (PIL convert('RGB')); transparent pixels keep their stored RGB",
        },
        "class_captions": captions,
        "images": images,
        "texts": texts,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tot = sum((args.images / x["file"]).stat().st_size for x in items)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes); images {tot:,} bytes in {len(items)} files")


if __name__ == "__main__":
    main()
