"""Text to image: compose AttnGAN, StackGAN++ and GAN-INT-CLS from registered components,
train one for a few steps, and draw images from descriptions.

    python examples/text_to_image.py [--out drawn/]

The real runs are ``textedit train --config attngan64_birds`` (or ``stackgan64_birds``,
``gan_int_cls64_birds``) and ``textedit generate --model runs/attngan64_birds/model``; this
uses the same code with models and data small enough to finish in seconds.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

import textedit
from textedit.training import TrainConfig, Trainer

#: narrow widths for every slot, so the models build and train in seconds
SMALL = {
    "text_encoder": {"embedding_dim": 16, "hidden_dim": 8},
    "generator": {"condition_dim": 8, "noise_dim": 8, "base_channels": 8},
    "discriminator": {"base_channels": 8, "max_channels": 16},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="output folder (default: a temporary folder)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="textedit-t2i-"))

    # the three systems are presets of three compositions; a variant is a config change:
    # AttnGAN's generator with sentence conditioning draws as StackGAN++'s does
    for spec in ("attngan_64", "stackgan_64", "gan_int_cls_64"):
        model = textedit.create_model(spec)
        print(f"{spec}: {type(model).__name__}, stages {model.stage_sizes}, noise width {model.noise_dim}")
    variant = textedit.create_model({"type": "attngan_64", **SMALL, "generator": {**SMALL["generator"], "conditioning": "sentence"}})
    print(f"AttnGAN with sentence-conditioned stages: {type(variant.generator).__name__} ({variant.generator.config.conditioning})")

    # a few steps of AttnGAN's recipe on generated birds, through the generic trainer
    config = TrainConfig.model_validate({
        "model": {"type": "attngan_64", **SMALL},
        "data": {"type": "synthetic", "family": "birds", "num_images": 16},
        "batch_size": 4, "steps": 3, "checkpoint_every": 3, "sample_every": 3, "log_every": 1,
        "num_samples": 2, "threads": 1, "output_dir": str(out / "run"),
    })
    model_dir = Trainer(config, progress=False).train()
    model = textedit.load(model_dir)

    # image k of a description is drawn from seed + k: the same seed draws the same image
    result = model.generate(["this bird has a red head and white wings", "the bird is blue"], num_images=2, seed=10)
    for i, (text, seed) in enumerate(zip(result.texts, result.seeds)):
        result.save(out / f"drawn_{i}.png", index=i)
        print(f"drew {text!r} from seed {seed}: {out / f'drawn_{i}.png'}")
    again = model.generate("the bird is blue", seed=12)
    same = torch.allclose(again.fine[0], result.fine[2], atol=1e-5)
    print(f"seed 12 again, alone, draws the same image: {same}")


if __name__ == "__main__":
    main()
