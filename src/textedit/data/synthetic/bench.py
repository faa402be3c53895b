"""Speed of the renderer and of ``textedit data generate``: ``python -m textedit.data.synthetic.bench``.

Prints a Markdown table of images per second for each family and size, single process:
``render`` draws a sampled scene (image, part masks, labels); ``generate`` is the whole
writer per image (draw, captions, PNG files, and the test split's edit pairs at the default
0.1 test fraction and 2 edits per image). CPU seconds of this process are used, so the
figures do not depend on what else shares the machine; wall-clock figures follow them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from textedit.data.synthetic.data import SyntheticSpec
from textedit.data.synthetic.render import render
from textedit.data.synthetic.scene import sample_scene
from textedit.data.synthetic.writer import generate_dataset


def measure(family: str, size: int, n: int) -> dict[str, float]:
    scenes = [sample_scene(family, np.random.default_rng([99, i])) for i in range(n)]
    render(scenes[0], size)  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    for s in scenes:
        render(s, size)
    r_cpu, r_wall = time.process_time() - cpu, time.perf_counter() - wall
    with tempfile.TemporaryDirectory() as tmp:
        cpu, wall = time.process_time(), time.perf_counter()
        generate_dataset(Path(tmp) / "d", SyntheticSpec(family, n=n), size)
        g_cpu, g_wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"render": n / r_cpu, "render_wall": n / r_wall, "generate": n / g_cpu, "generate_wall": n / g_wall}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="images per measurement (default 100)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    args = parser.parse_args(argv)
    print("| family | size | render img/s (CPU) | generate img/s (CPU) | render img/s (wall) | generate img/s (wall) |")
    print("|---|---|---|---|---|---|")
    for family in ("birds", "flowers"):
        for size in args.sizes:
            m = measure(family, size, args.n)
            print(f"| {family} | {size} | {m['render']:.0f} | {m['generate']:.0f} | "
                  f"{m['render_wall']:.0f} | {m['generate_wall']:.0f} |")


if __name__ == "__main__":
    main()
