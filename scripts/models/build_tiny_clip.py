"""Build the `tiny-clip` test fixture: a small, REAL Hugging Face CLIPModel trained on synthetic shapes.

What
    A `transformers.CLIPModel` (real CLIPConfig / CLIPModel classes, so the Hugging Face
    reference pipeline runs on exactly the same weights) with a small ViT image tower and
    a small text tower, trained from scratch with the CLIP loss on synthetic images of
    filled coloured shapes: 6 colours (red green blue yellow purple orange) x 4 shapes
    (circle square triangle star) = 24 classes. Tokenizer = the real openai CLIP BPE
    (49408 tokens). Exported to ONNX in the transformers.js layout:

        <out>/config.json                    CLIPConfig ("model_type": "clip")
        <out>/preprocessor_config.json       CLIPImageProcessor (shortest_edge S, bicubic, crop S)
        <out>/tokenizer.json, tokenizer_config.json
        <out>/onnx/vision_model.onnx         pixel_values [b,3,S,S] -> image_embeds [b,P]
        <out>/onnx/text_model.onnx           input_ids [b,seq] int64 -> text_embeds [b,P]
        <out>/onnx/*_quantized.onnx          dynamic uint8 quantisation of both
        <out>/eval.json                      held-out evaluation

    The embeddings are the projected, UN-normalised outputs of
    CLIPVisionModelWithProjection / CLIPTextModelWithProjection.
    The PyTorch weights are also saved (outside git) to .cache/tiny-clip-torch/ for
    scripts/models/make_reference.py.

Why
    No pretrained CLIP weights can be downloaded in CI / here. Tests need a model that is
    small (< 15 MB in git), loads through the same code path as Xenova/clip-vit-base-patch32,
    and gives *meaningful* embeddings (a red circle image must be closest to
    "a photo of a red circle"), so retrieval tests can assert on rankings.

Training
    Symmetric InfoNCE (CLIP loss) with a learned temperature. A batch of 128 over 24
    classes necessarily contains several images / captions of the same class, so plain
    InfoNCE (one positive on the diagonal) would push same-class pairs apart. We use
    class-level soft targets instead: for image i the target distribution is uniform over
    all captions j in the batch with the same class (and vice versa for captions). This is
    the supervised-contrastive form of the CLIP loss; captions are drawn at random from 16
    templates per sample. Images are pre-rendered once (random canvas 64-1024 px, JPEG,
    then shortest-edge bicubic resize + centre crop exactly like CLIPImageProcessor) and
    kept as uint8; each step applies a random dihedral transform (rot90 / flip, which keeps
    every class), so epochs are cheap. AdamW, linear warm-up + cosine decay, eager attention
    (much faster than SDPA on CPU for backward), 2 torch threads, deterministic algorithms.

Evaluation (printed and written to eval.json / docs/models.md)
    Zero-shot classification of held-out images (rendered with a different seed, never
    trained on; default 40 per class = 960) by cosine similarity with the 24 captions
    "a photo of a {colour} {shape}"; also the mean over all templates, and a "clean" set
    (plain background, lossless). Per-class accuracy and the worst confusions.

How to run (from the repository root, after creating .venv, see scripts/requirements.txt)
    .venv/bin/python scripts/models/build_tiny_clip.py --out test/fixtures/models/tiny-clip

    About 3-4 min to render the data (2 processes) and ~10 min of training on 2 cores,
    plus ~1 min for export / evaluation. Rendered data is cached in .cache/tiny-clip-data/
    (delete it or pass --no-cache to re-render). Results are deterministic for a given
    machine + library versions; other CPUs can differ in the last float bits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing as mp
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clip_common as cc  # noqa: E402
import shapes  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

ARCH = dict(
    image_size=80,
    patch_size=10,
    vision_hidden=64,
    vision_layers=4,
    vision_heads=4,
    vision_mlp=256,
    text_hidden=32,
    text_layers=2,
    text_heads=2,
    text_mlp=128,
    projection_dim=64,
)

TRAIN_SEED = 1
EVAL_SEED = 1_000_001  # held-out: a different seed space, never used for training
CLEAN_EVAL_SEED = 2_000_001
GENERATOR_VERSION = "shapes-v1"


def make_config(arch: dict):
    from transformers import CLIPConfig

    text_config = dict(
        vocab_size=cc.VOCAB_SIZE,
        hidden_size=arch["text_hidden"],
        intermediate_size=arch["text_mlp"],
        num_hidden_layers=arch["text_layers"],
        num_attention_heads=arch["text_heads"],
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        bos_token_id=cc.BOS_ID,
        eos_token_id=cc.EOS_ID,  # != 2, so pooling takes the FIRST eos token
        pad_token_id=cc.EOS_ID,
        projection_dim=arch["projection_dim"],
    )
    vision_config = dict(
        image_size=arch["image_size"],
        patch_size=arch["patch_size"],
        hidden_size=arch["vision_hidden"],
        intermediate_size=arch["vision_mlp"],
        num_hidden_layers=arch["vision_layers"],
        num_attention_heads=arch["vision_heads"],
        num_channels=3,
        hidden_act="quick_gelu",
        projection_dim=arch["projection_dim"],
    )
    cfg = CLIPConfig(text_config=text_config, vision_config=vision_config, projection_dim=arch["projection_dim"],
                     logit_scale_init_value=2.6592)
    cfg._attn_implementation = "eager"
    cfg.text_config._attn_implementation = "eager"
    cfg.vision_config._attn_implementation = "eager"
    return cfg


# --------------------------------------------------------------------------- data


def render_set(seed: int, n: int, size: int, clean: bool, workers: int, cache: Path | None, tag: str):
    """Render n samples -> (uint8 images [n,S,S,3], labels [n], uint8 shape masks [n,S,S]); cached as .npz."""
    key = f"{GENERATOR_VERSION}-{tag}-seed{seed}-n{n}-s{size}-clean{int(clean)}"
    digest = hashlib.sha1((key + Path(shapes.__file__).read_text()).encode()).hexdigest()[:10]
    path = cache / f"{key}-{digest}.npz" if cache else None
    if path and path.exists():
        d = np.load(path)
        return d["x"], d["y"], d["m"], d["v"]
    t0 = time.time()
    args = [(seed, i, size, clean) for i in range(n)]
    xs = np.empty((n, size, size, 3), dtype=np.uint8)
    ys = np.empty((n,), dtype=np.int64)
    ms = np.empty((n, size, size), dtype=np.uint8)
    vs = np.empty((n, size, size), dtype=np.uint8)
    if workers > 1:
        with mp.get_context("spawn").Pool(workers) as pool:
            for i, (x, y, m, v) in enumerate(pool.imap(shapes.render_preprocessed, args, chunksize=64)):
                xs[i], ys[i], ms[i], vs[i] = x, y, m, v
    else:
        for i, a in enumerate(args):
            xs[i], ys[i], ms[i], vs[i] = shapes.render_preprocessed(a)
    print(f"[data] rendered {n} {tag} images (seed {seed}) in {time.time() - t0:.0f}s", flush=True)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, x=xs, y=ys, m=ms, v=vs)
    return xs, ys, ms, vs


def caption_table(tokenizer):
    """ids[class, template] padded with EOS to a common length."""
    texts = [[t.format(c=c, s=s) for t in shapes.TEMPLATES] for c, s in shapes.CLASSES]
    enc = [[tokenizer(t).input_ids for t in row] for row in texts]
    L = max(len(e) for row in enc for e in row)
    ids = np.full((len(shapes.CLASSES), len(shapes.TEMPLATES), L), cc.EOS_ID, dtype=np.int64)
    for i, row in enumerate(enc):
        for j, e in enumerate(row):
            ids[i, j, : len(e)] = e
    return texts, ids


# --------------------------------------------------------------------------- training


def dihedral(x, gen):
    """Random rot90 / flip per sample (class preserving)."""
    import torch

    b = x.shape[0]
    k = torch.randint(0, 4, (b,), generator=gen)
    f = torch.randint(0, 2, (b,), generator=gen).bool()
    out = x.clone()
    for r in range(1, 4):
        m = k == r
        if m.any():
            out[m] = torch.rot90(x[m], r, dims=(2, 3))
    if f.any():
        out[f] = torch.flip(out[f], dims=(3,))
    return out


def clip_soft_loss(img_e, txt_e, labels, logit_scale):
    import torch
    import torch.nn.functional as F

    img_e = F.normalize(img_e, dim=-1)
    txt_e = F.normalize(txt_e, dim=-1)
    scale = logit_scale.exp().clamp(max=100.0)
    logits = scale * img_e @ txt_e.t()
    same = (labels[:, None] == labels[None, :]).float()
    tgt = same / same.sum(1, keepdim=True)
    li = -(tgt * F.log_softmax(logits, dim=1)).sum(1).mean()
    lt = -(tgt * F.log_softmax(logits.t(), dim=1)).sum(1).mean()
    acc = same[torch.arange(len(labels)), logits.argmax(1)].mean()  # top-1 caption has the right class
    return (li + lt) / 2, acc


def token_targets(masks, labels, patch):
    """Soft per-patch targets [B, P, 5]: coverage of the patch by the shape -> that shape (4 classes), rest -> background."""
    import torch
    import torch.nn.functional as F

    frac = F.avg_pool2d(masks.float().div(255).unsqueeze(1), patch).flatten(1)  # [B, P]
    tgt = torch.zeros(frac.shape[0], frac.shape[1], 5)
    tgt[..., 4] = 1 - frac
    tgt.scatter_(2, (labels % 4).view(-1, 1, 1).expand(-1, frac.shape[1], 1), frac.unsqueeze(-1))
    return tgt


def vertex_targets(vmap, patch):
    """[B, P, 4] multi-hot: does the patch contain a corner of type 1..4 (square / triangle / star tip / star inner)."""
    import torch.nn.functional as F

    onehot = F.one_hot(vmap.long(), 5)[..., 1:].permute(0, 3, 1, 2).float()  # [B,4,S,S]
    return F.max_pool2d(onehot, patch).flatten(2).transpose(1, 2)


def train(model, xs, ys, cap_ids, args, masks=None, vmaps=None, eval_cb=None):
    import torch
    import torch.nn.functional as F

    mean = torch.tensor(cc.CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(cc.CLIP_STD).view(1, 3, 1, 1)
    X = torch.from_numpy(xs).permute(0, 3, 1, 2).contiguous()  # uint8 N,3,S,S
    Y = torch.from_numpy(ys)
    C = torch.from_numpy(cap_ids)  # [24, T, L]
    n = X.shape[0]
    M = torch.from_numpy(np.stack([masks, vmaps], 1)) if masks is not None and args.token_aux > 0 else None
    patch = model.config.vision_config.patch_size
    # 5 outputs: which shape covers the patch (4) or background; 4 outputs: corner types inside the patch
    aux_head = torch.nn.Linear(model.config.vision_config.hidden_size, 5 + 4) if M is not None else None

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.ndim < 2 or "embedding" in name or "logit_scale" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    groups = [{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}]
    if aux_head is not None:
        groups.append({"params": list(aux_head.parameters()), "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups,
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    warm = max(1, int(0.06 * args.steps))

    def lr_at(step):
        if step < warm:
            return args.lr * (step + 1) / warm
        t = (step - warm) / max(1, args.steps - warm)
        return args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))

    # A continuation (--init-from) draws its batches in another order than the first run.
    gen = torch.Generator().manual_seed(TRAIN_SEED + (1 if args.init_from else 0))
    perm = torch.randperm(n, generator=gen)
    pos = 0
    model.train()
    t0 = time.time()
    hist = []
    for step in range(args.steps):
        if pos + args.batch > n:
            perm = torch.randperm(n, generator=gen)
            pos = 0
        idx = perm[pos : pos + args.batch]
        pos += args.batch
        if M is not None:
            xm = dihedral(torch.cat([X[idx], M[idx]], 1), gen)  # same rot/flip for image, mask, vertex map
            x, m, vm = xm[:, :3], xm[:, 3], xm[:, 4]
        else:
            x, m = dihedral(X[idx], gen), None
        x = x.float().div_(255).sub_(mean).div_(std)
        y = Y[idx]
        tmpl = torch.randint(0, C.shape[1], (len(idx),), generator=gen)
        ids = C[y, tmpl]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        vo = model.vision_model(pixel_values=x)
        img_e = model.visual_projection(vo.pooler_output)
        txt_e = model.text_projection(model.text_model(input_ids=ids).pooler_output)
        loss, acc = clip_soft_loss(img_e, txt_e, y, model.logit_scale)
        if aux_head is not None:
            # auxiliary dense "token labelling" loss (training only; the head is discarded):
            # every patch token predicts which shape covers it (or background)
            tok = model.vision_model.post_layernorm(vo.last_hidden_state[:, 1:])
            out = aux_head(tok)
            logp = F.log_softmax(out[..., :5], dim=-1)
            aux = -(token_targets(m, y, patch) * logp).sum(-1).mean()
            aux = aux + F.binary_cross_entropy_with_logits(out[..., 5:], vertex_targets(vm, patch)) * 4
            loss_total = loss + args.token_aux * aux
        else:
            aux = torch.zeros(())
            loss_total = loss
        opt.zero_grad(set_to_none=True)
        loss_total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        hist.append((loss.item(), acc.item(), aux.item()))
        if step % 50 == 0 or step == args.steps - 1:
            l = np.mean([h[0] for h in hist[-50:]])
            a = np.mean([h[1] for h in hist[-50:]])
            ax = np.mean([h[2] for h in hist[-50:]])
            el = time.time() - t0
            print(f"[train] step {step:5d}/{args.steps} loss {l:.3f} batch-acc {a:.3f} aux {ax:.3f} "
                  f"scale {model.logit_scale.exp().item():.1f} lr {lr_at(step):.2e} {el:.0f}s "
                  f"(eta {el / (step + 1) * (args.steps - step - 1):.0f}s)", flush=True)
        if eval_cb is not None and args.eval_every and step > 0 and (step % args.eval_every == 0):
            print(f"[train]   held-out @ {step}: {eval_cb(model)}", flush=True)
            model.train()
    model.eval()
    if aux_head is not None:
        del aux_head
    return {"init_from": str(args.init_from) if args.init_from else None,
            "train_seconds": round(time.time() - t0, 1), "final_loss": float(np.mean([h[0] for h in hist[-50:]]))}


# --------------------------------------------------------------------------- evaluation


def torch_eval_cb(ex, ey, cap_ids):
    """Quick zero-shot accuracy in PyTorch (prompt 'a photo of a ...') for progress reports."""
    import torch
    import torch.nn.functional as F

    mean = torch.tensor(cc.CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(cc.CLIP_STD).view(1, 3, 1, 1)
    X = torch.from_numpy(ex).permute(0, 3, 1, 2).float().div(255).sub(mean).div(std)

    def cb(model):
        model.eval()
        with torch.no_grad():
            ie = torch.cat([model.visual_projection(model.vision_model(pixel_values=X[i:i + 256]).pooler_output)
                            for i in range(0, len(X), 256)])
            te = model.text_projection(model.text_model(input_ids=torch.from_numpy(cap_ids[:, 0])).pooler_output)
            p = (F.normalize(ie, dim=-1) @ F.normalize(te, dim=-1).T).argmax(1).numpy()
        return f"acc {(p == ey).mean():.3f} colour {(p // 4 == ey // 4).mean():.3f} shape {(p % 4 == ey % 4).mean():.3f}"

    return cb


def embed_images_ort(sess, xs_uint8, batch=64):
    out = []
    for i in range(0, len(xs_uint8), batch):
        out.append(sess.run(["image_embeds"], {"pixel_values": cc.pixel_values_from_uint8(xs_uint8[i : i + batch])})[0])
    return np.concatenate(out)


def embed_texts_ort(sess, ids):
    return sess.run(["text_embeds"], {"input_ids": ids})[0]


def evaluate(img_emb, ys, class_text_emb):
    """class_text_emb: [24, P] (already averaged if ensembling)."""
    sims = cc.normalise(img_emb) @ cc.normalise(class_text_emb).T
    pred = sims.argmax(1)
    acc = float((pred == ys).mean())
    per_class = {}
    conf = np.zeros((24, 24), dtype=np.int64)
    for t, p in zip(ys, pred):
        conf[t, p] += 1
    for k, name in enumerate(shapes.CLASS_NAMES):
        m = ys == k
        per_class[name] = round(float((pred[m] == k).mean()), 4) if m.any() else None
    pairs = [(int(conf[i, j]), shapes.CLASS_NAMES[i], shapes.CLASS_NAMES[j]) for i in range(24) for j in range(24) if i != j and conf[i, j]]
    pairs.sort(reverse=True)
    colour_acc = float(np.mean([shapes.CLASSES[t][0] == shapes.CLASSES[p][0] for t, p in zip(ys, pred)]))
    shape_acc = float(np.mean([shapes.CLASSES[t][1] == shapes.CLASSES[p][1] for t, p in zip(ys, pred)]))
    return {
        "accuracy": round(acc, 4),
        "colour_accuracy": round(colour_acc, 4),
        "shape_accuracy": round(shape_acc, 4),
        "n": int(len(ys)),
        "per_class": per_class,
        "worst_confusions": [{"true": a, "pred": b, "count": c} for c, a, b in pairs[:10]],
    }


def class_text_embeddings(sess, cap_ids, template_index=None):
    if template_index is not None:
        return embed_texts_ort(sess, cap_ids[:, template_index])
    allt = np.stack([cc.normalise(embed_texts_ort(sess, cap_ids[:, j])) for j in range(cap_ids.shape[1])], 1)
    return allt.mean(1)


def full_eval(model_dir: Path, data: dict, cap_ids, quantized=False):
    suffix = "_quantized" if quantized else ""
    vs = cc.ort_session(model_dir / "onnx" / f"vision_model{suffix}.onnx")
    ts = cc.ort_session(model_dir / "onnx" / f"text_model{suffix}.onnx")
    res = {}
    embs = {}
    for name, (xs, ys) in data.items():
        ie = embed_images_ort(vs, xs)
        embs[name] = ie
        res[name] = {
            "prompt_a_photo_of_a": evaluate(ie, ys, class_text_embeddings(ts, cap_ids, 0)),
            "prompt_a_colour_shape": evaluate(ie, ys, class_text_embeddings(ts, cap_ids, 1)),
            "prompt_colour_shape": evaluate(ie, ys, class_text_embeddings(ts, cap_ids, 2)),
            "template_ensemble": evaluate(ie, ys, class_text_embeddings(ts, cap_ids, None)),
        }
    texts = np.concatenate([embed_texts_ort(ts, cap_ids[:, j]) for j in range(cap_ids.shape[1])])
    return res, embs, texts


def print_eval(res):
    for setname, r in res.items():
        print(f"== held-out set '{setname}' (n={r['prompt_a_photo_of_a']['n']})")
        for k, v in r.items():
            print(f"   {k:24s} acc {v['accuracy']:.4f}  colour {v['colour_accuracy']:.4f}  shape {v['shape_accuracy']:.4f}")
        main = r["prompt_a_photo_of_a"]
        print("   per-class (a photo of a ...): " + ", ".join(f"{k} {v:.2f}" for k, v in main["per_class"].items()))
        print("   worst confusions: " + "; ".join(f"{c['true']} -> {c['pred']} x{c['count']}" for c in main["worst_confusions"][:6]))


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "test/fixtures/models/tiny-clip")
    ap.add_argument("--torch-out", type=Path, default=REPO / ".cache/tiny-clip-torch",
                    help="where the PyTorch weights go (outside git; used by make_reference.py)")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache/tiny-clip-data")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--train-images", type=int, default=36000)
    ap.add_argument("--eval-per-class", type=int, default=40)
    ap.add_argument("--steps", type=int, default=1100)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--eval-every", type=int, default=200, help="print held-out accuracy every N steps (0 = off)")
    ap.add_argument("--token-aux", type=float, default=1.0, help="weight of the auxiliary per-patch shape loss (0 = pure CLIP loss)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init-from", type=Path, default=None,
                    help="continue from saved torch weights (a --torch-out folder) with a fresh warm-up + cosine schedule")
    args = ap.parse_args()
    t_start = time.time()

    import torch
    from transformers import CLIPModel

    cc.set_determinism(args.seed, args.threads)
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    S = ARCH["image_size"]

    tok = cc.build_clip_tokenizer(out)
    cc.write_preprocessor_config(out, S)
    texts, cap_ids = caption_table(tok)

    cache = None if args.no_cache else args.cache
    n_eval = 24 * args.eval_per_class
    ex, ey, _, _ = render_set(EVAL_SEED, n_eval, S, False, args.workers, cache, "eval")
    cx, cy, _, _ = render_set(CLEAN_EVAL_SEED, 24 * 10, S, True, args.workers, cache, "clean")
    xs, ys, ms, vs = render_set(TRAIN_SEED, args.train_images, S, False, args.workers, cache, "train")

    cfg = make_config(ARCH)
    torch.manual_seed(args.seed)
    model = CLIPModel(cfg).eval()
    if args.init_from:
        model = CLIPModel.from_pretrained(str(args.init_from)).eval()
        cfg = model.config
        assert model.config.vision_config.hidden_size == ARCH["vision_hidden"], "--init-from has another architecture"
        print(f"[model] continuing from {args.init_from}", flush=True)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"[model] CLIPModel {nparams / 1e6:.2f} M params "
          f"(vision {sum(p.numel() for p in model.vision_model.parameters()) / 1e6:.2f} M, "
          f"text {sum(p.numel() for p in model.text_model.parameters()) / 1e6:.2f} M)", flush=True)
    tinfo = train(model, xs, ys, cap_ids, args, masks=ms, vmaps=vs, eval_cb=torch_eval_cb(ex, ey, cap_ids))

    # save torch weights (outside git) + config.json for transformers.js
    args.torch_out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(args.torch_out))
    cfg.save_pretrained(str(out))
    cfgj = json.loads((out / "config.json").read_text())
    assert cfgj["model_type"] == "clip"

    diffs = cc.export_onnx(model, out, S)
    print(f"[onnx] {json.dumps({k: v for k, v in diffs.items() if 'diff' in k})}")
    cc.quantize(out)

    data = {"random_style": (ex, ey), "clean_style": (cx, cy)}
    res, embs, temb = full_eval(out, data, cap_ids)
    res_q, embs_q, temb_q = full_eval(out, data, cap_ids, quantized=True)
    print_eval(res)
    print("-- quantized (q8) models:")
    print_eval(res_q)
    img_cos = np.sum(cc.normalise(embs["random_style"]) * cc.normalise(embs_q["random_style"]), 1)
    txt_cos = np.sum(cc.normalise(temb) * cc.normalise(temb_q), 1)
    q8 = {"image_cosine_min": float(img_cos.min()), "image_cosine_mean": float(img_cos.mean()),
          "text_cosine_min": float(txt_cos.min()), "text_cosine_mean": float(txt_cos.mean())}
    print(f"[q8] fp32 vs q8 cosine: {json.dumps(q8)}")
    assert q8["image_cosine_min"] >= 0.98 and q8["text_cosine_min"] >= 0.98, q8

    sizes = cc.file_sizes(out)
    eval_doc = {
        "model": "tiny-clip",
        "generator": "scripts/models/build_tiny_clip.py",
        "versions": cc.package_versions(),
        "architecture": ARCH,
        "params": nparams,
        "training": {"train_images": args.train_images, "steps": args.steps, "batch": args.batch, "lr": args.lr,
                     "weight_decay": args.wd, "train_seed": TRAIN_SEED, "templates": len(shapes.TEMPLATES),
                     "loss": "symmetric InfoNCE with class-level soft targets, learned temperature",
                     "final_logit_scale": round(float(model.logit_scale.exp()), 3), **tinfo},
        "eval": {"held_out_seed": EVAL_SEED, "clean_seed": CLEAN_EVAL_SEED, "fp32": res,
                 "q8": {k: {kk: {"accuracy": vv["accuracy"]} for kk, vv in v.items()} for k, v in res_q.items()}},
        "q8_vs_fp32_cosine": {k: round(v, 5) for k, v in q8.items()},
        "onnx_check": diffs,
    }
    (out / "eval.json").write_text(json.dumps(eval_doc, indent=1) + "\n")
    sizes = cc.file_sizes(out)
    total = sum(sizes.values())
    for k, v in sizes.items():
        print(f"  {v:>10,d}  {k}")
    print(f"  {total:>10,d}  total")
    assert total < 15_000_000 and max(sizes.values()) < 10_000_000, "size budget exceeded"
    print(f"[done] {time.time() - t_start:.0f}s total")


if __name__ == "__main__":
    main()
