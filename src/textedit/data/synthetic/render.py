"""Drawing scenes: background, parts with colours and patterns, masks.

:func:`render` composites the family's layers back to front over a textured background,
``out = out * (1 - alpha) + colour * alpha``, in float32, and rounds once at the end. The
colour of a part only enters through its own layers, so changing a part's attributes
changes pixels only where that part's layers cover them (before or after the change): the
property the true edits rely on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from textedit.data.synthetic.families import get_family
from textedit.data.synthetic.geometry import Frame, Layer
from textedit.data.synthetic.palette import pattern_rgb, rgb
from textedit.data.synthetic.scene import Scene
from textedit.errors import InputError

__all__ = ["Rendering", "render", "SIZES", "OTHER_LABEL"]

#: the sizes the generated data sets are made at (any size >= 16 renders)
SIZES = (64, 128, 256)
#: label of object pixels that belong to no part (eyes, legs) in a label map
OTHER_LABEL = 255

_BAND = 64  # rows drawn at a time
_STRIPE_PERIOD = 0.15  # object units
_SPOT_SPACING = 0.17
_SPOT_RADIUS = 0.055


@dataclass
class Rendering:
    """A drawn scene.

    Attributes:
        image: ``(h, w, 3)`` uint8 RGB.
        part_masks: part name -> ``(h, w)`` float32 visible coverage in [0, 1] (what of the
            part is seen, after occlusion by the parts in front).
        object_mask: ``(h, w)`` float32 coverage of the whole object.
        labels: ``(h, w)`` uint8 label map: 0 background (object coverage below one half),
            else ``k`` for the k-th part of the family (1-based) or :data:`OTHER_LABEL` for
            other object pixels, whichever covers most of the pixel.
    """

    image: np.ndarray
    part_masks: dict[str, np.ndarray]
    object_mask: np.ndarray
    labels: np.ndarray


def render(scene: Scene, size: int = 128) -> Rendering:
    """Draw ``scene`` at ``size`` x ``size`` pixels (deterministic)."""
    if not isinstance(size, (int, np.integer)) or size < 16:
        raise InputError(f"image size must be an integer >= 16, got {size!r}")
    fam = get_family(scene.family)
    size = int(size)
    pixels = np.zeros((size, size, 3), dtype=np.uint8)
    labels = np.zeros((size, size), dtype=np.uint8)
    object_mask = np.zeros((size, size), dtype=np.float32)
    part_masks = {p: np.zeros((size, size), dtype=np.float32) for p in fam.part_names}
    # Bands of rows keep every temporary array small (fast allocation, cache-resident);
    # each pixel is computed the same way whatever band it falls in.
    for first in range(0, size, _BAND):
        band = (first, min(first + _BAND, size))
        _render_band(scene, fam, size, band, pixels, labels, object_mask, part_masks)
    return Rendering(pixels, part_masks, object_mask, labels)


def _render_band(scene, fam, size, band, pixels, labels, object_mask, part_masks) -> None:
    sh = scene.shape
    frame = Frame(size, sh["cx"], sh["cy"], sh["scale"], sh["angle"], bool(sh["flip"]),
                  fam.extent, rows=band)
    image = background(scene.background, frame)
    rows = slice(*band)
    win_rows, win_cols = frame.window
    if frame.x.size:
        out = image[frame.window]  # a view: the object is composited in place
        layers: list[Layer] = fam.layers(scene, frame)
        for layer in layers:
            rr = np.flatnonzero(layer.alpha.any(axis=1))
            if rr.size == 0:
                continue
            cc = np.flatnonzero(layer.alpha.any(axis=0))
            box = (slice(rr[0], rr[-1] + 1), slice(cc[0], cc[-1] + 1))
            a = layer.alpha[box][..., None]
            colour = _layer_colour(scene, layer, frame, box)
            o = out[box]  # a view into the image
            o += (colour - o) * a

        # visible coverage: a layer's alpha times what the layers in front leave through
        through = np.ones_like(frame.x)
        visible: list[np.ndarray] = [through] * len(layers)
        for i in range(len(layers) - 1, -1, -1):
            visible[i] = layers[i].alpha * through
            through = through * (1.0 - layers[i].alpha)
        masks = {p: np.zeros_like(frame.x) for p in fam.part_names}
        other = np.zeros_like(frame.x)
        for layer, vis in zip(layers, visible):
            if layer.part is None:
                other += vis
            else:
                masks[layer.part] += vis
        ids = np.array([*range(1, len(masks) + 1), OTHER_LABEL], dtype=np.uint8)
        cover = np.clip(1.0 - through, 0.0, 1.0)
        target = (slice(band[0] + win_rows.start, band[0] + win_rows.stop), win_cols)
        best = ids[np.argmax(np.stack([*masks.values(), other]), axis=0)]
        labels[target] = np.where(cover >= 0.5, best, 0)
        object_mask[target] = cover
        for name, m in masks.items():
            part_masks[name][target] = np.clip(m, 0.0, 1.0)
    image *= 255.0
    pixels[rows] = np.clip(np.rint(image, out=image), 0, 255, out=image).astype(np.uint8)


def _layer_colour(scene: Scene, layer: Layer, frame: Frame, box: tuple[slice, slice]) -> np.ndarray:
    """The colour of ``layer`` on the pixels ``box`` of the frame's window."""
    shade = layer.shade if np.isscalar(layer.shade) else layer.shade[box][..., None]
    if layer.part is None:
        return np.asarray(layer.colour, dtype=np.float32) * shade
    attrs = scene.attributes[layer.part]
    base = rgb(attrs["colour"])
    pattern = attrs.get("pattern", "solid")
    if pattern == "solid":
        return base * shade
    seed = _part_seed(scene.pattern_seed, layer.part)
    x, y = frame.x[box], frame.y[box]
    if pattern == "striped":
        amount = _stripes(x, y, frame.pixel, seed)
    else:
        amount = _spots(x, y, frame.pixel, seed)
    colour = base + (pattern_rgb(attrs["colour"]) - base) * amount[..., None]
    return colour * shade


def _part_seed(seed: int, part: str) -> int:
    return (seed * 1_000_003 + sum(ord(c) * 131**i for i, c in enumerate(part))) % (2**31 - 1)


def _stripes(x: np.ndarray, y: np.ndarray, pixel: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    angle = rng.uniform(-0.5, 0.5) + (np.pi / 2 if rng.random() < 0.3 else 0.0)
    phase = rng.uniform(0, 2 * np.pi)
    t = x * float(np.cos(angle)) + y * float(np.sin(angle))
    s = np.sin(t * float(2 * np.pi / _STRIPE_PERIOD) + float(phase))
    ramp = _STRIPE_PERIOD / (2 * np.pi * pixel)
    return np.clip(0.5 + (s - 0.25) * ramp, 0.0, 1.0)


def _spots(x: np.ndarray, y: np.ndarray, pixel: float, seed: int) -> np.ndarray:
    # One spot per cell of a square grid, jittered inside its cell, so only the own cell
    # needs testing: |jitter| + radius stays below half the spacing.
    sp, r = _SPOT_SPACING, _SPOT_RADIUS
    gx, gy = np.floor(x / sp), np.floor(y / sp)
    jitter = 0.5 * sp - r - 0.005
    jx = (_hash(gx, gy, seed) - 0.5) * 2 * jitter
    jy = (_hash(gx, gy, seed + 7) - 0.5) * 2 * jitter
    d = np.sqrt((x - (gx + 0.5) * sp - jx) ** 2 + (y - (gy + 0.5) * sp - jy) ** 2)
    return np.clip(0.5 - (d - r) / pixel, 0.0, 1.0)


def _hash(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """A value in [0, 1) per integer cell, fixed by ``seed``."""
    h = ix.astype(np.int64) * 73856093 ^ iy.astype(np.int64) * 19349663 ^ (seed * 83492791)
    h = (h ^ (h >> 13)) * 1274126177
    return ((h ^ (h >> 16)) & 0xFFFF).astype(np.float32) / 65536.0


def background(spec: dict, frame: Frame) -> np.ndarray:
    """The ``(h, w, 3)`` float32 background of a scene (drawn in image coordinates)."""
    c0, c1, c2 = (np.asarray(c, dtype=np.float32) for c in spec["colours"])
    u, v = frame.u, frame.v
    rng = np.random.default_rng(spec["seed"])
    kind = spec["kind"]
    ang = float(spec["angle"])
    t = (u - 0.5) * float(np.cos(ang)) + (v - 0.5) * float(np.sin(ang)) + 0.5
    noise = _value_noise(rng, u, v, cells=int(rng.integers(3, 7)))
    grain = _value_noise(rng, u, v, cells=int(rng.integers(12, 20)))
    if kind == "gradient":
        w = np.clip(t, 0, 1)
    elif kind == "noise":
        w = noise
    elif kind == "stripes":
        s = np.sin(t * float(2 * np.pi * spec["frequency"]))
        w = np.clip(0.5 + 0.5 * s, 0, 1) * 0.8 + 0.2 * noise
    else:  # horizon: sky above, ground below, with a soft, wavy edge
        edge = float(spec["level"]) + 0.06 * (noise - 0.5)
        w = np.clip((v - edge) * frame.size / 3.0 + 0.5, 0, 1)
    # out = ((c0 (1 - w) + c1 w) (1 - n / 4) + c2 n / 4) * grain, written as one
    # (h*w, 3) @ (3, 3) product to keep large temporaries few.
    grain = 0.92 + 0.16 * grain
    a = (1.0 - 0.25 * noise) * grain
    fields = np.stack([a, w * a, 0.25 * noise * grain], axis=-1)
    out = fields @ np.stack([c0, c1 - c0, c2])
    return np.clip(out, 0.0, 1.0, out=out)


def _value_noise(rng: np.random.Generator, u: np.ndarray, v: np.ndarray, cells: int) -> np.ndarray:
    """Smooth noise in [0, 1]: random values on a (cells + 1)^2 grid, smoothly interpolated.

    The interpolation is separable, so it is two small matrix products, ``wy @ g @ wx.T``.
    """
    g = rng.random((cells + 1, cells + 1), dtype=np.float32)
    return _weights(v[:, 0], cells) @ g @ _weights(u[0], cells).T


def _weights(t: np.ndarray, cells: int) -> np.ndarray:
    """``(n, cells + 1)`` smooth-step interpolation weights of the positions ``t`` in [0, 1]."""
    x = t * cells
    i = np.minimum(x.astype(np.int64), cells - 1)
    fx = x - i
    fx = fx * fx * (3 - 2 * fx)
    w = np.zeros((t.size, cells + 1), dtype=np.float32)
    rows = np.arange(t.size)
    w[rows, i] = 1 - fx
    w[rows, i + 1] = fx
    return w
