"""Regenerate ``examples/images/``: generated birds and two real photos from installed packages.

    python scripts/make_example_images.py            # writes examples/images/*

The generated birds are deterministic (``textedit.data.synthetic``, fixed seeds). The photos
are byte-for-byte copies of files that ship with scikit-learn and matplotlib (nothing is
downloaded); their provenance and licences are in ``examples/images/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

#: name -> (seed, render size, crop (width, height) or None)
BIRDS = {
    "bird_64.png": (3, 64, None),
    "bird_128.png": (2, 128, None),
    "bird_wide_200x136.png": (7, 200, (200, 136)),  # odd size and aspect: tests the size policy
}
#: name -> (package, path inside the package)
PHOTOS = {
    "flower_photo.jpg": ("sklearn", "datasets/images/flower.jpg"),
    "grace_hopper.jpg": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
}


def render_bird(seed: int, size: int, crop: tuple[int, int] | None) -> Image.Image:
    from textedit.data.synthetic import render, sample_scene

    pixels = render(sample_scene("birds", np.random.default_rng(seed)), size).image
    image = Image.fromarray(pixels, "RGB")
    if crop is not None:
        w, h = crop
        left, top = (size - w) // 2, (size - h) // 2
        image = image.crop((left, top, left + w, top + h))
    return image


def package_file(package: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (seed, size, crop) in BIRDS.items():
        render_bird(seed, size, crop).save(args.out / name, optimize=True)
        print(f"wrote {args.out / name}")
    for name, (package, relative) in PHOTOS.items():
        source = package_file(package, relative)
        if source is None:
            print(f"skipped {name}: {package} is not installed")
            continue
        shutil.copyfile(source, args.out / name)
        digest = hashlib.sha256((args.out / name).read_bytes()).hexdigest()
        print(f"copied {source} -> {args.out / name} (sha256 {digest})")


if __name__ == "__main__":
    main()
