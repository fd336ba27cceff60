"""Synthetic "coloured shape" images and captions for the tiny CLIP fixture model.

The vocabulary is 6 colours x 4 shapes = 24 classes. Every image shows ONE filled
shape; its caption names the shape's fill colour and the shape.

Rendering is deliberately varied, because the model is also judged on images made
by generators it never saw (e.g. SVG shapes rasterised by sharp in Node):

* canvas 64-1024 px (short side log-uniform), 60 % square, else aspect up to 1.6;
* shape extent 15-80 % of the canvas' short side, random position (kept inside
  the centre square, which is what CLIP's centre crop keeps), random rotation,
  mild aspect ratio (a circle stays roundish, a square stays squarish);
* shape geometry variants: ellipses, rounded squares, equilateral / isosceles /
  right triangles, 5- and 6-pointed stars with different inner radii;
* renderers: PIL polygon mask with supersampling (x2/x3/x4 antialias), aliased
  PIL polygon (no antialias), render-small-then-upscale (pixelated or bilinear),
  optional stroke (outline) in black / white / a darker shade of the fill,
  flat or shaded (gradient) fill;
* backgrounds: solid / linear gradient / noise / texture (stripes, checks, grid),
  mostly neutral or desaturated, sometimes a saturated colour of ANOTHER class,
  never the shape's own colour family;
* blur, sensor noise, JPEG quality 30-95 (70 % of images), else lossless.

Colours are sampled in HSV inside hue bands that are separated by gaps (for
example orange 24-40 deg, red -10..8 deg, yellow 48-64 deg), so a colour name
always stays unambiguous. Named CSS anchors (red #ff0000, green #008000,
orange #ffa500, purple #800080, ...) are included on purpose.

Every sample is a pure function of (seed, index): `render_sample(seed, i)`, so
data sets are reproducible regardless of how many worker processes render them.

`clip_preprocess_uint8` resizes exactly like transformers' CLIPImageProcessor
(shortest edge -> S with PIL bicubic, then centre crop S x S) and returns uint8;
the float rescale/normalise happens later in torch.
"""

from __future__ import annotations

import colorsys
import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"]
SHAPES = ["circle", "square", "triangle", "star"]
CLASSES = [(c, s) for c in COLOURS for s in SHAPES]  # class index = ci * 4 + si
CLASS_NAMES = [f"{c} {s}" for c, s in CLASSES]

# Caption templates. The first one is the canonical zero-shot prompt.
TEMPLATES = [
    "a photo of a {c} {s}",
    "a {c} {s}",
    "{c} {s}",
    "a drawing of a {c} {s}",
    "an image of a {c} {s}",
    "a {c} {s} shape",
    "a picture of a {c} {s}",
    "an illustration of a {c} {s}",
    "a {s} that is {c}",
    "the {c} {s}",
    "a simple {c} {s}",
    "a {c} {s} on a background",
    "a close-up photo of a {c} {s}",
    "a rendering of a {c} {s}",
    "{c} {s} icon",
    "a {c} colored {s}",
]
ZERO_SHOT_TEMPLATE = TEMPLATES[0]

# Hue bands (degrees), min saturation, min value. Gaps between bands keep names unambiguous.
COLOUR_SPEC = {
    "red": dict(h=(-10.0, 8.0), s=(0.70, 1.0), v=(0.55, 1.0)),
    "orange": dict(h=(24.0, 40.0), s=(0.80, 1.0), v=(0.85, 1.0)),
    "yellow": dict(h=(48.0, 64.0), s=(0.70, 1.0), v=(0.85, 1.0)),
    "green": dict(h=(90.0, 150.0), s=(0.60, 1.0), v=(0.45, 1.0)),
    "blue": dict(h=(205.0, 245.0), s=(0.60, 1.0), v=(0.55, 1.0)),
    "purple": dict(h=(265.0, 305.0), s=(0.50, 1.0), v=(0.45, 1.0)),
}
# Named colours (CSS / material palette) used verbatim part of the time.
COLOUR_ANCHORS = {
    "red": ["#ff0000", "#e53935", "#d32f2f", "#c62828", "#f44336", "#dc143c", "#b22222", "#8b0000", "#ee1111"],
    "orange": ["#ffa500", "#ff8c00", "#ff7f00", "#ff9800", "#f57c00", "#fb8c00", "#ffa726", "#ff9900"],
    "yellow": ["#ffff00", "#ffd700", "#ffeb3b", "#fdd835", "#ffee58", "#f5e50a", "#ffe600", "#fff200"],
    "green": ["#00ff00", "#008000", "#00c853", "#4caf50", "#2e7d32", "#32cd32", "#228b22", "#2ecc71", "#00a000"],
    "blue": ["#0000ff", "#1e90ff", "#2196f3", "#1565c0", "#0d47a1", "#4169e1", "#3f51b5", "#0066ff", "#1976d2"],
    "purple": ["#800080", "#8000ff", "#9c27b0", "#6a1b9a", "#9400d3", "#8a2be2", "#663399", "#a020f0", "#ba55d3"],
}


def hex_rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def sample_colour(rng: random.Random, name: str) -> tuple[int, int, int]:
    if rng.random() < 0.3:
        return hex_rgb(rng.choice(COLOUR_ANCHORS[name]))
    spec = COLOUR_SPEC[name]
    h = (rng.uniform(*spec["h"]) % 360.0) / 360.0
    s = rng.uniform(*spec["s"])
    v = rng.uniform(*spec["v"])
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def sample_background_colour(rng: random.Random, shape_colour: str) -> tuple[int, int, int]:
    """A background colour that is never in the shape's colour family."""
    u = rng.random()
    if u < 0.45:  # neutrals: white, greys, black, off-white
        k = rng.choice([255, 255, 250, 245, 240, 230, 220, 200, 180, 128, 96, 64, 32, 16, 0])
        k = max(0, min(255, k + rng.randint(-6, 6)))
        tint = [rng.randint(-5, 5) for _ in range(3)]
        return tuple(max(0, min(255, k + t)) for t in tint)  # type: ignore[return-value]
    if u < 0.85:  # desaturated tint of any hue (pastel, beige, slate, ...)
        h = rng.random()
        s = rng.uniform(0.0, 0.25)
        v = rng.uniform(0.25, 1.0)
        r, g, b = colorsys.hsv_to_rgb(h, s, v)
        return int(r * 255), int(g * 255), int(b * 255)
    # saturated colour of another class
    other = rng.choice([c for c in COLOURS if c != shape_colour])
    return sample_colour(rng, other)


# --------------------------------------------------------------------------- geometry


def shape_polygon(rng: random.Random, shape: str) -> list[tuple[float, float]]:
    """Vertices of the shape in unit coordinates, centred at 0, bounding radius <= 1."""
    if shape == "circle":
        ax = rng.uniform(0.87, 1.0)
        n = 96
        pts = [(math.cos(2 * math.pi * k / n), ax * math.sin(2 * math.pi * k / n)) for k in range(n)]
        if rng.random() < 0.5:
            pts = [(y, x) for x, y in pts]
    elif shape == "square":
        ax = rng.uniform(0.87, 1.0)
        hw, hh = 1.0, ax
        r = rng.uniform(0.0, 0.18) if rng.random() < 0.25 else 0.0  # rounded corners, mild
        if r == 0.0:
            pts = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
        else:
            pts = []
            corners = [(hw - r, hh - r, 0), (-hw + r, hh - r, 90), (-hw + r, -hh + r, 180), (hw - r, -hh + r, 270)]
            for cx, cy, a0 in corners:
                for k in range(7):
                    a = math.radians(a0 + 90 * k / 6)
                    pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    elif shape == "triangle":
        kind = rng.random()
        if kind < 0.55:  # equilateral
            pts = [(math.cos(math.radians(a)), math.sin(math.radians(a))) for a in (-90, 30, 150)]
        elif kind < 0.85:  # isosceles, apex angle 45-80 or 80-100 deg
            apex = math.radians(rng.uniform(45, 95))
            h = 1.0
            half = h * math.tan(apex / 2)
            pts = [(0.0, -h / 2), (half, h / 2), (-half, h / 2)]
        else:  # right triangle, legs ratio mild
            a = 1.0
            b = rng.uniform(0.75, 1.0)
            pts = [(0.0, 0.0), (a, 0.0), (0.0, b)]
    elif shape == "star":
        npts = 5 if rng.random() < 0.8 else 6
        inner = rng.uniform(0.36, 0.55) if npts == 5 else rng.uniform(0.42, 0.6)
        pts = []
        for k in range(2 * npts):
            rad = 1.0 if k % 2 == 0 else inner
            a = -math.pi / 2 + math.pi * k / npts
            pts.append((rad * math.cos(a), rad * math.sin(a)))
    else:
        raise ValueError(shape)
    # centre on bounding box, normalise to bounding radius 1
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    pts = [(x - cx, y - cy) for x, y in pts]
    rmax = max(math.hypot(x, y) for x, y in pts)
    return [(x / rmax, y / rmax) for x, y in pts]


VERTEX_TYPES = {"square": 1, "triangle": 2, "star_tip": 3, "star_inner": 4}


def shape_vertices(shape: str, pts) -> list[tuple[float, float, int]]:
    """Corner points (unit coords) with a type id, used only for the auxiliary training targets."""
    if shape == "square":
        corners = pts if len(pts) == 4 else pts[3::7]  # rounded: middle of each corner arc
        return [(x, y, VERTEX_TYPES["square"]) for x, y in corners]
    if shape == "triangle":
        return [(x, y, VERTEX_TYPES["triangle"]) for x, y in pts]
    if shape == "star":
        return [(x, y, VERTEX_TYPES["star_tip"] if k % 2 == 0 else VERTEX_TYPES["star_inner"]) for k, (x, y) in enumerate(pts)]
    return []


def place_polygon(pts, cx, cy, radius, angle):
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + radius * (x * ca - y * sa), cy + radius * (x * sa + y * ca)) for x, y in pts]


# --------------------------------------------------------------------------- backgrounds


def _smooth_field(w: int, h: int, fn, grid: int = 64) -> Image.Image:
    """Evaluate fn(u, v) (u, v in [0,1]) on a small grid and resize bilinearly to (w, h): cheap smooth fields."""
    gw, gh = min(w, grid), min(h, grid)
    v, u = np.mgrid[0:gh, 0:gw].astype(np.float32)
    u /= max(gw - 1, 1)
    v /= max(gh - 1, 1)
    arr = fn(u, v)
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8)).resize((w, h), Image.BILINEAR)


def make_background(rng: random.Random, nrng: np.random.Generator, w: int, h: int, shape_colour: str) -> Image.Image:
    c1 = np.array(sample_background_colour(rng, shape_colour), dtype=np.float32)
    kind = rng.random()
    if kind < 0.40:
        return Image.new("RGB", (w, h), tuple(int(x) for x in c1))
    if kind < 0.65:  # linear gradient
        c2 = np.array(sample_background_colour(rng, shape_colour), dtype=np.float32)
        a = rng.uniform(0, 2 * math.pi)

        def grad(u, v):
            t = (u - 0.5) * math.cos(a) + (v - 0.5) * math.sin(a)
            t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
            return c1 * (1 - t[..., None]) + c2 * t[..., None]

        return _smooth_field(w, h, grad)
    if kind < 0.85:  # noise: white noise or smooth blobs around a colour
        sigma = rng.uniform(5, 40)
        if rng.random() < 0.5:
            n = nrng.normal(0, sigma, size=(h, w, 1 if rng.random() < 0.5 else 3)).astype(np.float32)
            return Image.fromarray(np.clip(c1 + n, 0, 255).astype(np.uint8))
        sh, sw = max(2, h // rng.randint(4, 32)), max(2, w // rng.randint(4, 32))
        small = nrng.normal(0, sigma * 1.5, size=(sh, sw, 3)).astype(np.float32)
        small = np.clip(small + c1, 0, 255).astype(np.uint8)
        return Image.fromarray(small).resize((w, h), Image.BILINEAR)
    # texture: stripes / checks / grid, drawn in uint8
    c2 = np.array(sample_background_colour(rng, shape_colour), dtype=np.float32)
    period = rng.uniform(0.03, 0.2) * min(w, h) + 2
    yy, xx = np.ogrid[0:h, 0:w]
    a = rng.uniform(0, math.pi)
    u = (xx * math.cos(a) + yy * math.sin(a)).astype(np.float32)
    v = (-xx * math.sin(a) + yy * math.cos(a)).astype(np.float32)
    t = rng.random()
    if t < 0.4:
        m = (np.floor(u / period) % 2) > 0
    elif t < 0.7:
        m = ((np.floor(u / period) + np.floor(v / period)) % 2) > 0
    else:
        lw = max(1.0, period * rng.uniform(0.05, 0.2))
        m = ((u % period) < lw) | ((v % period) < lw)
    out = np.empty((h, w, 3), dtype=np.uint8)
    out[...] = np.rint(c1).astype(np.uint8)
    out[m] = np.rint(c2).astype(np.uint8)
    return Image.fromarray(out)


# --------------------------------------------------------------------------- rendering


@dataclass
class Sample:
    image: Image.Image  # final RGB image as a user would store it (after JPEG round trip)
    label: int
    colour: str
    shape: str
    mask: Image.Image | None = None  # 'L' coverage of the shape fill (training-only target)
    vertices: list | None = None  # [(x, y, type)] corners in canvas pixels (training-only target)


def _mask(size_wh, draw_fn, ss: int, aliased: bool) -> Image.Image:
    """Rasterise into an 'L' mask of size_wh, supersampled by ss (BOX downsample = area antialias)."""
    w, h = size_wh
    big = Image.new("L", (w * ss, h * ss), 0)
    draw_fn(ImageDraw.Draw(big), ss)
    if ss > 1:
        big = big.resize((w, h), Image.NEAREST if aliased else Image.BOX)
    return big


def render_sample(seed: int, index: int, label: int | None = None, clean: bool = False) -> Sample:
    """Render sample `index` of the data set `seed` (pure function of both).

    clean=True renders the "easy" style (white or neutral solid background, lossless,
    no blur, shape 30-70 %) used for an additional sanity evaluation.
    """
    rng = random.Random(seed * 1_000_003 + index)
    nrng = np.random.default_rng(seed * 1_000_003 + index)
    if label is None:
        label = index % len(CLASSES)
    colour, shape = CLASSES[label]

    # canvas
    short = int(round(math.exp(rng.uniform(math.log(64), math.log(1024)))))
    if rng.random() < 0.6:
        w = h = short
    else:
        ar = rng.uniform(1.05, 1.6)
        long = min(1024, int(round(short * ar)))
        w, h = (long, short) if rng.random() < 0.5 else (short, long)
    short = min(w, h)

    # geometry
    frac = rng.uniform(0.15, 0.8) if not clean else rng.uniform(0.3, 0.7)
    radius = frac * short / 2
    x0, y0 = (w - short) / 2, (h - short) / 2
    cx = rng.uniform(x0 + radius, x0 + short - radius)
    cy = rng.uniform(y0 + radius, y0 + short - radius)
    angle = rng.uniform(0, 2 * math.pi)
    if rng.random() < 0.3:  # upright / axis-aligned is common in the wild
        angle = {"circle": angle, "square": 0.0, "triangle": 0.0, "star": 0.0}[shape]
        angle += rng.uniform(-0.08, 0.08)
    unit = shape_polygon(rng, shape)

    # renderer
    r = rng.random()
    lowres = 1.0
    if r < 0.12 and not clean:
        aliased, ss = True, 1
    elif r < 0.22 and not clean:  # render small then upscale
        aliased, ss = False, 2
        lowres = rng.uniform(0.25, 0.6)
    else:
        aliased = False
        ss = rng.choice([2, 3, 4])
    rw, rh = max(8, int(w * lowres)), max(8, int(h * lowres))
    while ss > 1 and max(rw, rh) * ss > 2048:
        ss -= 1
    sx = rw / w
    pts = place_polygon(unit, cx * sx, cy * sx, radius * sx, angle)

    stroke = None
    if rng.random() < 0.2:
        stroke = max(1.0, rng.uniform(0.01, 0.06) * 2 * radius * sx)

    def draw_fill(d: ImageDraw.ImageDraw, s: int):
        d.polygon([(x * s, y * s) for x, y in pts], fill=255)

    fill_mask = _mask((rw, rh), draw_fill, ss, aliased)
    stroke_mask = None
    if stroke is not None:
        def draw_stroke(d: ImageDraw.ImageDraw, s: int):
            d.line([(x * s, y * s) for x, y in pts + pts[:1]], fill=255,
                   width=max(1, int(round(stroke * s))), joint="curve")

        stroke_mask = _mask((rw, rh), draw_stroke, ss, aliased)

    if lowres != 1.0:
        resample = Image.NEAREST if rng.random() < 0.4 else Image.BILINEAR
        fill_mask = fill_mask.resize((w, h), resample)
        if stroke_mask is not None:
            stroke_mask = stroke_mask.resize((w, h), resample)

    # colours
    if clean:
        bgc = sample_background_colour(rng, colour) if rng.random() < 0.5 else (255, 255, 255)
        bg = Image.new("RGB", (w, h), tuple(int(x) for x in bgc))
    else:
        bg = make_background(rng, nrng, w, h, colour)
    fc = np.array(sample_colour(rng, colour), dtype=np.float32)
    if rng.random() < 0.3 and not clean:  # shaded fill: brightness gradient across the shape
        a = rng.uniform(0, 2 * math.pi)
        amt = rng.uniform(0.08, 0.25)
        ucx, ucy, ur = cx / w, cy / h, max(radius, 1.0)

        def shade(u, v):
            t = ((u - ucx) * w * math.cos(a) + (v - ucy) * h * math.sin(a)) / ur
            return fc * (1.0 + amt * np.clip(t, -1, 1))[..., None]

        fill = _smooth_field(w, h, shade)
    else:
        fill = Image.new("RGB", (w, h), tuple(int(x) for x in fc))
    img = Image.composite(fill, bg, fill_mask)
    if stroke_mask is not None:
        u = rng.random()
        if u < 0.45:
            sc = (rng.randint(0, 40),) * 3
        elif u < 0.6:
            sc = (rng.randint(225, 255),) * 3
        else:
            k = rng.uniform(0.55, 0.8)
            sc = tuple(int(x * k) for x in fc)
        img = Image.composite(Image.new("RGB", (w, h), sc), img, stroke_mask)

    if not clean and rng.random() < 0.15:  # sensor noise
        arr = np.asarray(img, dtype=np.float32) + nrng.normal(0, rng.uniform(2, 12), size=(h, w, 3)).astype(np.float32)
        img = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8))
    if not clean and rng.random() < 0.3:
        # blur, bounded relative to the shape so small stars keep their points
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, min(0.02 * short, 0.12 * radius) + 0.5)))
    if not clean and rng.random() < 0.7:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=rng.randint(30, 95))
        buf.seek(0)
        img = Image.open(buf).convert("RGB")
    verts = [(x, y, t) for (x, y), (_, _, t) in zip(
        place_polygon([(vx, vy) for vx, vy, _ in shape_vertices(shape, unit)], cx, cy, radius, angle),
        shape_vertices(shape, unit))]
    return Sample(img, label, colour, shape, fill_mask, verts)


def clip_resize_crop(img: Image.Image, size: int, resample=Image.BICUBIC) -> Image.Image:
    """Same geometry as CLIPImageProcessor(size={"shortest_edge": S}, crop_size=S, resample=BICUBIC)."""
    if img.mode != "L":
        img = img.convert("RGB")
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), resample)
    top = (nh - size) // 2
    left = (nw - size) // 2
    return img.crop((left, top, left + size, top + size))


def crop_coords(w: int, h: int, size: int):
    """Map canvas pixel coords -> coords in the S x S crop (same geometry as clip_resize_crop)."""
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)
    nw, nh = (size, new_long) if w <= h else (new_long, size)
    top, left = (nh - size) // 2, (nw - size) // 2
    return lambda x, y: (x * nw / w - left, y * nh / h - top)


def clip_preprocess_uint8(img: Image.Image, size: int) -> np.ndarray:
    return np.asarray(clip_resize_crop(img, size), dtype=np.uint8)


def render_preprocessed(args) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """(uint8 S x S x 3 image exactly as CLIPImageProcessor would crop it, label,
    uint8 S x S shape-coverage mask, uint8 S x S vertex map: corner type id at each corner pixel)."""
    seed, index, size, clean = args
    s = render_sample(seed, index, clean=clean)
    mask = np.asarray(clip_resize_crop(s.mask, size, Image.BILINEAR), dtype=np.uint8)
    vmap = np.zeros((size, size), dtype=np.uint8)
    f = crop_coords(s.image.size[0], s.image.size[1], size)
    for x, y, t in s.vertices:
        u, v = f(x, y)
        if 0 <= u < size and 0 <= v < size:
            vmap[int(v), int(u)] = t
    return clip_preprocess_uint8(s.image, size), s.label, mask, vmap
