"""Signed distances of simple shapes, evaluated on a pixel grid, for anti-aliased drawing.

Every shape is a signed distance field in the object's own units (negative inside);
:meth:`Frame.coverage` turns a distance into the fraction of each pixel the shape covers,
a one-pixel-wide ramp, so edges are anti-aliased at any size and the same scene looks the
same at 64, 128 and 256 pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Frame", "Layer", "ellipse", "circle", "polygon", "segment"]

Array = np.ndarray


@dataclass
class Layer:
    """One thing to draw, back to front.

    Attributes:
        part: the family part it belongs to, or None for fixed pieces (eyes, legs).
        alpha: ``(h, w)`` coverage in [0, 1].
        shade: ``(h, w)`` (or scalar) brightness factor applied to the colour: lighting
            and outlines, which depend on geometry only.
        colour: the fixed sRGB colour of a piece that is not a part.
    """

    part: str | None
    alpha: Array
    shade: Array | float = 1.0
    colour: tuple[float, float, float] | None = None


class Frame:
    """The pixel grid of one image seen in the object's coordinates.

    Shapes are evaluated only inside :attr:`window`, the part of the image the object's
    extent box can reach, which keeps small objects cheap to draw at 256 pixels.

    Object coordinates: the object's centre at the origin, x towards the object's front
    (the bird's head), y downwards, one unit = ``scale`` of the image width.

    Args:
        size: image side in pixels.
        cx, cy: object centre in image units ([0, 1]).
        scale: image units per object unit.
        angle: rotation of the object in radians (counter-clockwise on screen).
        flip: mirror the object (it faces left).
        extent: ``(x0, x1, y0, y1)`` box in object units that holds every shape.
        rows: draw only this band of image rows (``(first, end)``); the whole image if None.
    """

    def __init__(
        self,
        size: int,
        cx: float,
        cy: float,
        scale: float,
        angle: float,
        flip: bool,
        extent: tuple[float, float, float, float] = (-2.0, 2.0, -2.0, 2.0),
        rows: tuple[int, int] | None = None,
    ):
        self.size = size
        b0, b1 = rows if rows is not None else (0, size)
        #: the band of image rows this frame covers
        self.rows = (b0, b1)
        cx, cy, scale, angle = float(cx), float(cy), float(scale), float(angle)
        c, s = float(np.cos(angle)), float(np.sin(angle))
        sign = -1.0 if flip else 1.0
        # The pixels the object can reach: its extent box (object units) mapped to the image.
        x0, x1, y0, y1 = extent
        corners = np.array([(x, y) for x in (x0, x1) for y in (y0, y1)], dtype=np.float64)
        du = (c * sign * corners[:, 0] + s * corners[:, 1]) * scale + cx
        dv = (-s * sign * corners[:, 0] + c * corners[:, 1]) * scale + cy
        c0 = int(np.clip(np.floor(du.min() * size) - 2, 0, size))
        c1 = int(np.clip(np.ceil(du.max() * size) + 2, c0, size))
        r0 = int(np.clip(np.floor(dv.min() * size) - 2, b0, b1))
        r1 = int(np.clip(np.ceil(dv.max() * size) + 2, r0, b1))
        #: ``(rows, cols)`` slices, relative to the band, that the object can cover
        self.window = (slice(r0 - b0, r1 - b0), slice(c0, c1))
        t = (np.arange(size, dtype=np.float32) + 0.5) / size
        #: image coordinates of the band's pixels, ``(h, w)``
        self.u, self.v = np.meshgrid(t, t[b0:b1])
        du, dv = self.u[self.window] - cx, self.v[self.window] - cy
        x = (c * du - s * dv) / scale
        #: object coordinates of the window's pixels
        self.x = sign * x
        self.y = (s * du + c * dv) / scale
        #: one pixel in object units: the width of the anti-aliasing ramp
        self.pixel = 1.0 / (size * scale)

    def coverage(self, distance: Array) -> Array:
        """Pixel coverage of the shape whose signed distance is ``distance``."""
        return np.clip(0.5 - distance / self.pixel, 0.0, 1.0)

    def outline(self, distance: Array, width: float) -> Array:
        """Coverage of a line of ``width`` object units along the shape's edge, inside it."""
        w = max(width, self.pixel)
        return np.clip(1.0 - np.abs(distance + w / 2) / (w / 2 + self.pixel / 2), 0.0, 1.0)


def ellipse(f: Frame, cx: float, cy: float, a: float, b: float, theta: float = 0.0) -> Array:
    """Approximate signed distance to an ellipse (half-axes ``a``, ``b``, rotated ``theta``)."""
    c, s = float(np.cos(theta)), float(np.sin(theta))
    cx, cy, a, b = float(cx), float(cy), float(a), float(b)
    dx, dy = f.x - cx, f.y - cy
    px = (c * dx + s * dy) / a
    py = (-s * dx + c * dy) / b
    k0 = np.sqrt(px * px + py * py)
    k1 = np.sqrt((px / a) ** 2 + (py / b) ** 2)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-6)


def circle(f: Frame, cx: float, cy: float, r: float) -> Array:
    cx, cy, r = float(cx), float(cy), float(r)
    return np.sqrt((f.x - cx) ** 2 + (f.y - cy) ** 2) - r


def polygon(f: Frame, points: Sequence[tuple[float, float]]) -> Array:
    """Signed distance to a convex polygon (exact inside, rounded-off corners outside)."""
    pts = np.asarray(points, dtype=np.float32)
    centre = pts.mean(axis=0)
    d = None
    for i in range(len(pts)):
        (x0, y0), (x1, y1) = pts[i], pts[(i + 1) % len(pts)]
        nx, ny = y1 - y0, x0 - x1
        n = np.hypot(nx, ny)
        nx, ny = nx / n, ny / n
        if (centre[0] - x0) * nx + (centre[1] - y0) * ny > 0:  # point the normal outwards
            nx, ny = -nx, -ny
        x0, y0, nx, ny = float(x0), float(y0), float(nx), float(ny)
        di = (f.x - x0) * nx + (f.y - y0) * ny
        d = di if d is None else np.maximum(d, di)
    return d


def segment(f: Frame, p0: tuple[float, float], p1: tuple[float, float], r: float) -> Array:
    """Signed distance to a capsule: the segment ``p0``-``p1`` thickened by ``r``."""
    ax, ay = f.x - float(p0[0]), f.y - float(p0[1])
    bx, by = float(p1[0] - p0[0]), float(p1[1] - p0[1])
    r = float(r)
    t = np.clip((ax * bx + ay * by) / (bx * bx + by * by), 0.0, 1.0)
    return np.sqrt((ax - t * bx) ** 2 + (ay - t * by) ** 2) - r
