"""Can a model's discriminator learn to tell a matching description from a mismatched one?

    python benchmarks/discriminator_matching.py --config gan_int_cls64_birds_damsm --steps 4000

Trains only the discriminator of a training config's model (and its text encoder, when that
learns) on the matching-aware task alone — real images with their own description as
matching, with another image's description as not — from the config's data stream, with no
generator, and prints every ``--eval-every`` steps the share of unseen pairs (batches from
step 20 000 on, never trained on) whose own description scores above the other's. 0.5 is
chance. The text-to-image guide reads it to explain why StackGAN++ and GAN-INT-CLS ignore the
text (docs/guides/text-to-image.md#with-a-pretrained-frozen-text-encoder).

The score is the conditional log-probability ``log D_c`` of the last stage (``conformity``),
or the log-sigmoid of the matching logit for discriminators with one matching logit
(SISGAN's, which GAN-INT-CLS uses); the loss is ``−log D_c(x, t) − log(1 − D_c(x, t̂))``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from textedit.config.io import apply_overrides, read_config_file  # noqa: E402
from textedit.interfaces.discriminator import log1mexp  # noqa: E402
from textedit.interfaces.generator import resize_to_stages  # noqa: E402
from textedit.training.config import TrainConfig, find_config  # noqa: E402
from textedit.training.trainer import Trainer  # noqa: E402

#: the first step of the unseen batches the accuracy is measured on
EVAL_FROM = 20_000


def _log_matching(model: Any, image: torch.Tensor, tokens: Any) -> torch.Tensor:
    """``(b,)`` log-probability that each image matches its description (last stage)."""
    out = model.discriminate(resize_to_stages(image, model.stage_sizes), model.encode_text(tokens))
    if out.conformity is not None:
        return out.conformity[-1]
    if out.matching:
        return F.logsigmoid(out.matching[-1])
    raise SystemExit(f"{type(model.discriminator).__name__} scores no match with the text")


def probe(
    config: TrainConfig, steps: int, eval_every: int = 250, eval_batches: int = 20
) -> Iterator[dict[str, float]]:
    """Train ``config``'s discriminator on the matching-aware task alone for ``steps`` steps,
    yielding one row per evaluation: ``step``, ``loss`` and ``accuracy`` on unseen pairs."""
    trainer = Trainer(config, progress=False)
    model = trainer.model
    params = [
        p for slot in ("discriminator", "text_encoder")
        for p in getattr(model, slot).parameters() if p.requires_grad
    ]
    optimizer = torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))

    def scores(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        batch = trainer.training_batch(step)
        return (_log_matching(model, batch.image, batch.tokens),
                _log_matching(model, batch.image, batch.mismatched_tokens))

    for step in range(steps + 1):
        own, other = scores(step)
        loss = -(own.mean() + log1mexp(other).mean())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % eval_every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                hits = [(a > b).float().mean().item() for a, b in (scores(EVAL_FROM + k) for k in range(eval_batches))]
            model.train()
            yield {"step": step, "loss": loss.item(), "accuracy": sum(hits) / len(hits)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="a shipped training config name or a config file")
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="runs/discriminator_matching", help="scratch run folder")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = apply_overrides(read_config_file(find_config(args.config)), args.overrides)
    data.update(output_dir=args.out, ema_decay=None, device="cpu")
    start = time.perf_counter()
    print(f"{args.config}: own description above another's, on unseen pairs (0.5 = chance)")
    for row in probe(TrainConfig.model_validate(data), args.steps, args.eval_every):
        print(f"step {row['step']:6d}  loss {row['loss']:.3f}  accuracy {row['accuracy']:.3f}"
              f"  ({time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
