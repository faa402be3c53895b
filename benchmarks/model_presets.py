"""Size, cost and speed of the MIM-Net presets on this machine's CPU.

For each preset: parameters, forward FLOPs of one edit (batch 1, counted with
``torch.utils.flop_counter.FlopCounterMode``; the LSTMs are not counted by it), edit
latency at batch 1, training throughput at batch 8 and the peak memory of one training
step at batch 8.

Two training steps are timed, both with Adam on each side:

* ``stand-in``: a reconstruction pass with an L1 loss on both stages, one discriminator
  forward/backward on real and reconstructed images (reality + conformity), the
  generator's adversarial + L1 backward.
* ``two-stage``: the full iteration of spec section 6 written with the composition's
  methods: reconstruction step (L1 + L_pgt + the randomised-memory pass judged by D_r),
  then the adversarial step (manipulation with mismatched text, D step on real / mismatched
  / fake, G step). It mirrors ``textedit.training.Trainer``'s step without its data
  pipeline, EMA or logging.

    python benchmarks/model_presets.py                  # all presets, markdown table
    python benchmarks/model_presets.py --presets mimnet_128 --repeats 20

Peak memory is measured in a fresh subprocess per preset as the growth of the peak
resident set size (``VmHWM``) over one training step, so it includes activations,
gradients and Adam state but not the Python/torch baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import textedit
from textedit.interfaces import log1mexp

TEXTS = [
    "this bird has a red head and white wings",
    "a small yellow bird with black wings and a short beak",
    "the bird is blue with a white belly",
    "a grey bird with a long tail and a striped breast",
]
TARGETS = {  # preset -> (edit latency ms at batch 1, training images/s at batch 8, peak step GiB)
    "mimnet_128": (85.0, 1.6, None),
    "mimnet_256": (500.0, None, 4.0),
}


def _images(batch: int, size: int) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1


def _texts(batch: int) -> list[str]:
    return [TEXTS[i % len(TEXTS)] for i in range(batch)]


def stand_in_training_step(model, image, tokens, opt_g, opt_d) -> None:
    """Reconstruction L1 + one D and one G update (see the module docstring)."""
    text = model.encode_text(tokens)
    out = model.reconstruct(image, text)
    real = model.stage_images(image)
    fixed = text.detach()
    d_real = model.discriminate(real, fixed)
    d_fake = model.discriminate([i.detach() for i in out.images], fixed)
    loss_d = sum(
        F.softplus(-r).mean() + F.softplus(f).mean() - c.mean()
        for r, f, c in zip(d_real.reality, d_fake.reality, d_real.conformity)
    )
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    d_gen = model.discriminate(out.images, fixed)
    loss_g = sum(F.softplus(-r).mean() - c.mean() for r, c in zip(d_gen.reality, d_gen.conformity))
    loss_g = loss_g + sum((o - t).abs().mean() for o, t in zip(out.images, real))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()


def two_stage_training_step(model, image, tokens, opt_g, opt_d) -> None:
    """Reconstruction step, then a D and a G adversarial step (spec section 6)."""
    real = model.stage_images(image)
    text = model.encode_text(tokens)
    structure = model.extract_structure(image)
    out = model.reconstruct(image, text, structure)
    loss = sum((o - t).abs().mean() for o, t in zip(out.images, real))
    loss = loss + (out.texture_feature - out.localized_feature.detach()).abs().mean()
    random = model.random_memory_pass(image, text, structure=structure)
    loss = loss + sum(F.softplus(-r).mean() for r in model.discriminate(random.images).reality)
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()

    mismatched = model.encode_text(tokens.select(torch.arange(len(tokens)).roll(1)))
    fake = model.manipulate(image, mismatched)
    own, other = model.encode_text(tokens).detach(), mismatched.detach()
    d_real, d_mis = model.discriminate(real, own), model.discriminate(real, other)
    d_fake = model.discriminate([f.detach() for f in fake.images])
    loss_d = sum(
        F.softplus(-r).mean() + F.softplus(f).mean() - c.mean() - log1mexp(m).mean()
        for r, f, c, m in zip(d_real.reality, d_fake.reality, d_real.conformity, d_mis.conformity)
    )
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    d_gen = model.discriminate(fake.images, other)
    loss_g = sum(F.softplus(-r).mean() - c.mean() for r, c in zip(d_gen.reality, d_gen.conformity))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()


STEPS = {"stand-in": stand_in_training_step, "two-stage": two_stage_training_step}


def _optimizers(model):
    d_params = list(model.discriminator.parameters())
    d_ids = {id(p) for p in d_params}
    g_params = [p for p in model.parameters() if id(p) not in d_ids]
    make = lambda ps: torch.optim.Adam(ps, lr=2e-4, betas=(0.5, 0.999))  # noqa: E731
    return make(g_params), make(d_params)


def measure(name: str, repeats: int, train_steps: int) -> dict:
    torch.manual_seed(0)
    model = textedit.create_model(name)
    size = model.image_size
    row = {
        "preset": name,
        "params_g_M": (model.num_parameters() - model.discriminator.num_parameters()) / 1e6,
        "params_d_M": model.discriminator.num_parameters() / 1e6,
    }
    model.eval()
    image = _images(1, size)
    with FlopCounterMode(display=False) as counter:
        model.edit(image, _texts(1))
    row["edit_gflop"] = counter.get_total_flops() / 1e9
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.discriminate(model.stage_images(image), model.encode_text(model.tokenize(_texts(1))))
    row["d_gflop"] = counter.get_total_flops() / 1e9

    for _ in range(3):
        model.edit(image, _texts(1))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.edit(image, _texts(1))
        times.append(time.perf_counter() - start)
    row["edit_ms_median"] = 1e3 * statistics.median(times)
    row["edit_ms_min"] = 1e3 * min(times)

    model.train()
    batch = _images(8, size)
    tokens = model.tokenize(_texts(8))
    opt_g, opt_d = _optimizers(model)
    for kind, step in STEPS.items():
        step(model, batch, tokens, opt_g, opt_d)  # warm-up
        times = []
        for _ in range(train_steps):
            start = time.perf_counter()
            step(model, batch, tokens, opt_g, opt_d)
            times.append(time.perf_counter() - start)
        row[f"{kind}_img_s_median"] = 8 / statistics.median(times)
        row[f"{kind}_img_s_best"] = 8 / min(times)
        row[f"{kind}_peak_gib"] = _peak_memory_subprocess(name, kind)
    return row


def _peak_memory_subprocess(name: str, kind: str) -> float:
    """Growth of the peak RSS over one batch-8 training step, in a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--peak-of", name, "--step", kind],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def peak_of(name: str, kind: str) -> float:
    torch.manual_seed(0)
    model = textedit.create_model(name).train()
    size = model.image_size
    batch, tokens = _images(8, size), model.tokenize(_texts(8))
    opt_g, opt_d = _optimizers(model)
    before = _peak_rss_kib()
    STEPS[kind](model, batch, tokens, opt_g, opt_d)
    return (_peak_rss_kib() - before) / 2**20


def _peak_rss_kib() -> int:
    """Peak resident set size of this process (``VmHWM``; unlike ``ru_maxrss`` it is not
    inherited from the parent through fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _verdict(row: dict) -> str:
    target = TARGETS.get(row["preset"])
    if target is None:
        return "—"
    parts = []
    edit_ms, img_s, gib = target
    if edit_ms is not None:
        ok = row["edit_ms_median"] <= edit_ms
        parts.append(f"edit ≤ {edit_ms:g} ms: {'met' if ok else 'MISSED'}")
    if img_s is not None:
        for kind in STEPS:
            ok = row[f"{kind}_img_s_median"] >= img_s
            parts.append(f"{kind} ≥ {img_s:g} img/s: {'met' if ok else 'MISSED'}")
    if gib is not None:
        ok = row["two-stage_peak_gib"] <= gib
        parts.append(f"step < {gib:g} GiB: {'met' if ok else 'MISSED'}")
    return "; ".join(parts)


def to_markdown(rows: list[dict]) -> str:
    head = (
        "| preset | params G / D (M) | edit GFLOP (b=1) | D GFLOP (b=1, both stages) | edit ms median (min) "
        "| stand-in img/s b=8 median (best) | two-stage img/s b=8 median (best) "
        "| peak GiB b=8 stand-in / two-stage | targets |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    lines = [
        f"| {r['preset']} | {r['params_g_M']:.2f} / {r['params_d_M']:.2f} | {r['edit_gflop']:.2f} "
        f"| {r['d_gflop']:.2f} | {r['edit_ms_median']:.0f} ({r['edit_ms_min']:.0f}) "
        f"| {r['stand-in_img_s_median']:.2f} ({r['stand-in_img_s_best']:.2f}) "
        f"| {r['two-stage_img_s_median']:.2f} ({r['two-stage_img_s_best']:.2f}) "
        f"| {r['stand-in_peak_gib']:.2f} / {r['two-stage_peak_gib']:.2f} | {_verdict(r)} |"
        for r in rows
    ]
    return "\n".join([head, *lines])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="*", default=["mimnet_64", "mimnet_128", "mimnet_256"])
    parser.add_argument("--repeats", type=int, default=15, help="edits timed per preset")
    parser.add_argument(
        "--train-steps", type=int, default=3, help="training steps timed per preset"
    )
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default: torch's); 1 is steadier on a busy machine",
    )
    parser.add_argument("--peak-of", help=argparse.SUPPRESS)
    parser.add_argument("--step", default="stand-in", choices=list(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.peak_of:
        print(peak_of(args.peak_of, args.step))
        return
    rows = [measure(name, args.repeats, args.train_steps) for name in args.presets]
    load = " ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average after: {load}"
    )
    print(json.dumps(rows, indent=2) if args.json else to_markdown(rows))


if __name__ == "__main__":
    main()
