"""Train a tiny MIM-Net for a few steps with textedit's trainer, then edit with it.

    python examples/train_tiny.py [--out runs/tiny]

The real recipe of the bundled model is ``textedit train --config mimnet64_birds``; this
uses the same code with a model and data small enough to finish in seconds.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import textedit
from textedit.training import TrainConfig, Trainer

TINY = {
    "model": {
        "type": "mimnet_64",
        "text_encoder": {"embedding_dim": 16, "hidden_dim": 8},
        "memory_bank": {"num_slots": 8, "slot_dim": 8},
        "structure_extractor": {"channels": 8},
        "generator": {"channels": 16, "base_channels": 8},
        "discriminator": {"base_channels": 8, "max_channels": 16, "hidden_dim": 8},
    },
    "data": {"type": "synthetic", "family": "birds", "num_images": 16},
    "batch_size": 4,
    "steps": 3,
    "checkpoint_every": 3,
    "sample_every": 3,
    "log_every": 1,
    "num_samples": 2,
    "threads": 1,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="run folder (default: a temporary folder)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="textedit-tiny-run-"))

    config = TrainConfig.model_validate({**TINY, "output_dir": str(out)})
    model_dir = Trainer(config, progress=False).train()
    print(
        f"trained {config.steps} steps; run folder {out}: {sorted(p.name for p in out.iterdir())}"
    )

    model = textedit.load(out)  # a run folder (its model/ sub-folder) loads like a bundled model
    result = model.edit(
        Path(__file__).resolve().parent / "images" / "bird_64.png", "a bird with a red head"
    )
    print(
        f"edited with the tiny model from {model_dir}: {result.image.size}, words {result.words[0]}"
    )


if __name__ == "__main__":
    main()
