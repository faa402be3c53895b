"""Benchmark the memory attention backends: time and peak memory against the bank size N.

Shape legend: ``b`` batch, ``t`` words, ``n`` memory slots, ``D`` word width, ``d`` memory
width.

Each measurement runs in a fresh Python process:

* memory, one process per (shape, N, backend), so that one configuration's allocations
  cannot hide another's peak. On the CPU the resident set size is read from
  ``/proc/self/status`` once the inputs exist and a small warm-up call has loaded every
  code path (the baseline); the high-water mark is reset (``echo 5 >
  /proc/self/clear_refs``), the step runs once, and ``VmHWM - baseline`` is the peak the
  step added. Where the reset is not possible, ``ru_maxrss`` is used instead (an upper
  bound that also counts the warm-up). On CUDA, ``torch.cuda.max_memory_allocated`` after
  ``reset_peak_memory_stats``, minus what was allocated before.
* time, one process per (shape, N) running every backend: one warm-up call each, then
  ``--repeats`` rounds that call the backends in turn (interleaved, so that a change in
  the machine's load hits all of them alike); the median per backend. Two steps: the
  forward pass alone (under ``torch.no_grad``, as at inference) and forward + backward
  (gradients for the words, the memories and the key projection, as in training).

The "other CPU %" column is the CPU time the rest of the machine used while a row was
timed, as a share of all CPUs (from ``/proc/stat``): on a shared machine, rows with a high
share are slow and noisy. ``--wait-idle`` waits for a quiet machine before each (shape, N).

Usage::

    python benchmarks/memory_attention.py                      # the default sweep, CPU
    python benchmarks/memory_attention.py --out results.json   # also write JSON (or .csv)
    python benchmarks/memory_attention.py --device cuda --slots 4096 16384
    python benchmarks/memory_attention.py --threads 1 --wait-idle 120   # a shared CPU
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

DEFAULT_SLOTS = [64, 256, 1024, 4096, 16384]
DEFAULT_SHAPES = ["8x18", "32x32"]


def _rss_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


class _PeakMemory:
    """Peak bytes a block of code adds on top of what is resident when it starts."""

    def __init__(self, device: str):
        self.device = device

    def __enter__(self):
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.start = torch.cuda.memory_allocated()
        else:
            self.start = (_rss_kib("VmRSS") or 0) * 1024
            self.reset = _reset_peak()
        return self

    def __exit__(self, *exc):
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
        elif self.reset and _rss_kib("VmHWM") is not None:
            peak = _rss_kib("VmHWM") * 1024
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.bytes = max(0, peak - self.start)


def _setup(spec: dict):
    """Inputs for ``spec`` and the two timed callables (forward; forward + backward)."""
    import torch

    from textedit.ops.memory_attention import memory_attention

    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    device, dtype = spec["device"], getattr(torch, spec["dtype"])
    b, t, d, big_d = spec["b"], spec["t"], spec["d"], spec["D"]
    g = torch.Generator().manual_seed(0)

    def inputs(slots: int):
        words = torch.randn(b, t, big_d, generator=g, dtype=dtype)
        mask = torch.ones(b, t, dtype=torch.bool)
        memories = torch.randn(slots, d, generator=g, dtype=dtype)
        key_weight = torch.randn(big_d, d, generator=g, dtype=dtype) / big_d**0.5
        return [x.to(device) for x in (words, mask, memories, key_weight)]

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    def forward(backend, words, mask, memories, key_weight):
        with torch.no_grad():
            memory_attention(words, mask, memories, key_weight, backend=backend)
        sync()

    def train(backend, words, mask, memories, key_weight):
        leaves = [x.requires_grad_() for x in (words, memories, key_weight)]
        out = memory_attention(words, mask, memories, key_weight, backend=backend)
        out.texture.sum().backward()
        for leaf in leaves:
            leaf.grad = None
        sync()

    return inputs, {"forward": forward, "train": train}


def _memory_worker(spec: dict) -> dict:
    """Peak memory of one backend, in a process of its own."""
    inputs, steps = _setup(spec)
    small = inputs(8)
    for step in steps.values():  # load every code path before the baseline
        step(spec["backend"], *small)
    args = inputs(spec["n"])
    for x in args[0], args[2], args[3]:  # touch every page now: the baseline counts the inputs
        x.mul_(1)
    result = {}
    for name, step in steps.items():
        with _PeakMemory(spec["device"]) as peak:
            step(spec["backend"], *args)
        result[f"{name}_peak_mib"] = peak.bytes / 2**20
    return result


def _time_worker(spec: dict) -> dict:
    """Median times of every backend, interleaved so that load changes hit all alike."""
    import torch

    from textedit.ops.memory_attention import resolve_backend

    inputs, steps = _setup(spec)
    args = inputs(spec["n"])
    words, _, memories, key_weight = args
    with torch.no_grad():
        at_inference = resolve_backend("auto", words, memories, key_weight)
    in_training = resolve_backend("auto", words.detach().requires_grad_(), memories, key_weight)
    result = {"auto_picks": f"{at_inference} / {in_training}"}
    for name, step in steps.items():
        times: dict[str, list[float]] = {backend: [] for backend in spec["backends"]}
        for backend in spec["backends"]:
            step(backend, *args)  # warm-up
        for _ in range(spec["repeats"]):
            for backend in spec["backends"]:
                start = time.perf_counter()
                step(backend, *args)
                times[backend].append(time.perf_counter() - start)
        for backend, seconds in times.items():
            result.setdefault(backend, {})[f"{name}_ms"] = statistics.median(seconds) * 1e3
            result[backend][f"{name}_ms_all"] = [round(x * 1e3, 3) for x in seconds]
    return result


def _busy_seconds() -> float | None:
    """CPU seconds spent busy by the whole machine so far (all CPUs), from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wait_until_idle(timeout: float, threshold: float = 0.1) -> None:
    """Wait up to ``timeout`` s until the machine is busy less than ``threshold`` for 2 s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        start = _busy_seconds()
        if start is None:
            return
        time.sleep(2.0)
        if (_busy_seconds() - start) / (2.0 * os.cpu_count()) < threshold:
            return


def _subprocess(mode: str, spec: dict) -> dict:
    env = dict(os.environ)
    env.pop("TEXTEDIT_MEMORY_ATTENTION_BACKEND", None)
    proc = subprocess.run(
        [sys.executable, __file__, f"--{mode}-worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker failed for {spec}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_one(spec: dict, wait_idle: float) -> list[dict]:
    """One row per backend for one (shape, N): times, peaks, and how busy the machine was."""
    if wait_idle > 0:
        _wait_until_idle(wait_idle)
    busy, mine, start = _busy_seconds(), _children_cpu_seconds(), time.monotonic()
    times = _subprocess("time", spec)
    others = None
    if busy is not None:
        # CPU the rest of the machine used while we timed, as a share of all CPUs: timings
        # taken while others compute are slower, and this says how disturbed the run was.
        spent = (_busy_seconds() - busy) - (_children_cpu_seconds() - mine)
        others = max(0.0, 100 * spent / ((time.monotonic() - start) * os.cpu_count()))
    rows = []
    for backend in spec["backends"]:
        peaks = _subprocess("memory", {**spec, "backend": backend})
        rows.append({**{k: v for k, v in spec.items() if k != "backends"}, "backend": backend,
                     **times[backend], **peaks, "auto_picks": times["auto_picks"],
                     "other_cpu_percent": others})  # fmt: skip
    return rows


def _table(rows: list[dict]) -> str:
    reference = {(r["b"], r["t"], r["n"]): r for r in rows if r["backend"] == "reference"}
    lines = [
        "| b×t | N | backend | fwd ms | fwd+bwd ms | fwd speed-up | fwd+bwd speed-up "
        "| fwd peak MiB | fwd+bwd peak MiB | auto picks (fwd / fwd+bwd) | other CPU % |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        ref = reference.get((r["b"], r["t"], r["n"]))
        fwd_x = f"{ref['forward_ms'] / r['forward_ms']:.2f}×" if ref else "–"
        train_x = f"{ref['train_ms'] / r['train_ms']:.2f}×" if ref else "–"
        lines.append(
            f"| {r['b']}×{r['t']} | {r['n']} | {r['backend']} | {r['forward_ms']:.2f} "
            f"| {r['train_ms']:.2f} | {fwd_x} | {train_x} | {r['forward_peak_mib']:.1f} "
            f"| {r['train_peak_mib']:.1f} | {r['auto_picks']} "
            f"| {r['other_cpu_percent'] if r['other_cpu_percent'] is None else round(r['other_cpu_percent'])} |"
        )
    return "\n".join(lines)


def _write(rows: list[dict], path: str) -> None:
    if path.endswith(".csv"):
        fields = [k for k in rows[0] if not k.endswith("_all")]
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    else:
        with open(path, "w") as f:
            json.dump(rows, f, indent=2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slots", type=int, nargs="+", default=DEFAULT_SLOTS, help="N values")
    parser.add_argument("--shapes", nargs="+", default=DEFAULT_SHAPES, help="b×t as BxT")
    parser.add_argument("--word-dim", type=int, default=256, help="D")
    parser.add_argument("--slot-dim", type=int, default=256, help="d")
    parser.add_argument("--backends", nargs="+", default=None, help="default: all available")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", default=None, help="write results to a .json or .csv file")
    parser.add_argument(
        "--wait-idle", type=float, default=0.0, metavar="SECONDS",
        help="before each configuration, wait up to this long for the machine to be idle "
        "(for shared machines)",
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--time-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--memory-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.time_worker or args.memory_worker:
        worker = _time_worker if args.time_worker else _memory_worker
        print(json.dumps(worker(json.loads(args.time_worker or args.memory_worker))))
        return

    import torch

    from textedit.ops.memory_attention import available_backends

    backends = args.backends or [
        name for name in available_backends() if args.device == "cuda" or name != "triton"
    ]
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
        f"{torch.__version__} ({args.threads or torch.get_num_threads()} threads), device {args.device}, "
        f"{args.dtype}, D={args.word_dim}, d={args.slot_dim}, median of {args.repeats}",
        flush=True,
    )
    rows = []
    for shape in args.shapes:
        b, t = (int(v) for v in shape.lower().split("x"))
        for n in args.slots:
            spec = dict(b=b, t=t, n=n, d=args.slot_dim, D=args.word_dim, backends=backends,
                        device=args.device, dtype=args.dtype, repeats=args.repeats,
                        threads=args.threads)  # fmt: skip
            for r in _run_one(spec, args.wait_idle):
                rows.append(r)
                print(f"  {shape} N={n} {r['backend']}: {r['forward_ms']:.2f} / "
                      f"{r['train_ms']:.2f} ms, others {r['other_cpu_percent'] or 0:.0f}% CPU",
                      file=sys.stderr, flush=True)  # fmt: skip
    print(_table(rows))
    if args.out:
        _write(rows, args.out)


if __name__ == "__main__":
    main()
