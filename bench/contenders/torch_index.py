"""The design notes' Python path: PIL + torchvision-style transforms (Resize 224 bicubic on
the shortest edge, CenterCrop 224, ToTensor, Normalize with CLIP's mean/std, written with
PIL and torch because torchvision does not load with the CPU torch here), then the CLIP
vision tower's forward pass in PyTorch on CPU, in batches, on the same weights.

Input: JSON {"torch_dir", "paths", "batch_size", "threads"} on stdin. Output: a RESULT line.
"""
import json, resource, sys, time

import numpy as np
import torch
from PIL import Image
from transformers import CLIPVisionModelWithProjection

args = json.load(sys.stdin)
torch.set_num_threads(args["threads"])
model = CLIPVisionModelWithProjection.from_pretrained(args["torch_dir"]).eval()
size = model.config.image_size
MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(3, 1, 1)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(3, 1, 1)


def transform(path):
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = size / min(w, h)
    im = im.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BICUBIC)
    w, h = im.size
    left, top = (w - size) // 2, (h - size) // 2
    im = im.crop((left, top, left + size, top + size))
    x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0).permute(2, 0, 1)
    return (x - MEAN) / STD


def run(paths):
    out = []
    with torch.inference_mode():
        for i in range(0, len(paths), args["batch_size"]):
            batch = torch.stack([transform(p) for p in paths[i : i + args["batch_size"]]])
            out.append(model(pixel_values=batch).image_embeds)
    return torch.cat(out)


paths = args["paths"]
run(paths[:1])  # warm up outside the timing
t0 = time.perf_counter()
vectors = run(paths)
seconds = time.perf_counter() - t0
print("RESULT " + json.dumps({"images": len(paths), "stored": int(vectors.shape[0]), "seconds": seconds,
                              "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
