"""Compile the Triton memory-attention kernels for a GPU without one: every autotuning
configuration, its shared memory, registers and spills.

Triton compiles ahead of time for a named target (its bundled ``ptxas`` needs no GPU), and
``cuobjdump --dump-resource-usage`` reads the registers per thread and the local-memory
(spill) bytes from the cubin. So on any machine this script shows whether each
configuration the autotuner would try compiles for, say, an H100/H200 (``sm_90``), fits its
shared memory (227 KiB per block) and stays in registers, which is what the autotuner's
pruning (``_fits`` in ``textedit/ops/_triton_memory_attention.py``) has to get right.

    python benchmarks/triton_aot.py                       # sm_90, widths 64 and 256, fp32 and bf16
    python benchmarks/triton_aot.py --arch 80 --widths 256 --dtypes fp32
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time

import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from textedit.ops import _triton_memory_attention as kernels

#: dynamic shared memory one block may use on sm_80 / sm_90 (bytes)
SHARED_LIMIT = {80: 163 * 1024, 86: 99 * 1024, 89: 99 * 1024, 90: 227 * 1024}
#: the kernels' inputs in the type being compiled (the rest of the pointers are float32)
_INPUTS = ("q_ptr", "m_ptr", "dout_ptr")
_FUNCTIONS = {"forward": kernels._forward_kernel, "dq": kernels._grad_q_kernel, "dm": kernels._grad_m_kernel}


def _cuobjdump() -> str:
    return os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "cuobjdump")


def resources(cubin: bytes) -> dict[str, int]:
    """Registers, stack and local (spill) bytes of a cubin's kernel."""
    with tempfile.NamedTemporaryFile(suffix=".cubin") as handle:
        handle.write(cubin)
        handle.flush()
        text = subprocess.run(
            [_cuobjdump(), "--dump-resource-usage", handle.name], capture_output=True, text=True, check=True
        ).stdout
    found = dict(re.findall(r"(REG|STACK|SHARED|LOCAL):(\d+)", text))
    return {k.lower(): int(v) for k, v in found.items()}


def compile_one(name: str, config: triton.Config, padded: int, dtype: str, arch: int) -> dict:
    item = {"fp32": "*fp32", "bf16": "*bf16"}[dtype]
    constants = dict(
        BLOCK_R=config.kwargs["BLOCK_R"], BLOCK_N=config.kwargs["BLOCK_N"], BLOCK_P=padded,
        ACC=tl.float32, DOT=tl.float32 if dtype == "fp32" else tl.bfloat16,
        PRECISION="tf32",
    )
    # The signature from the kernel's own arguments: the compile-time constants above,
    # pointers (named *_ptr), and 32-bit integers for the rest.
    signature = {
        arg: "constexpr" if arg in constants
        else (item if arg in _INPUTS else "*fp32") if arg.endswith("_ptr")
        else "i32"
        for arg in _FUNCTIONS[name].arg_names
    }
    source = ASTSource(fn=_FUNCTIONS[name], signature=signature, constexprs=constants)
    start = time.perf_counter()
    compiled = triton.compile(
        source, target=GPUTarget("cuda", arch, 32),
        options={"num_warps": config.num_warps, "num_stages": config.num_stages},
    )
    row = {"kernel": name, "width": padded, "dtype": dtype, **config.kwargs,
           "warps": config.num_warps, "stages": config.num_stages,
           "shared_kib": compiled.metadata.shared / 1024, "compile_s": time.perf_counter() - start}
    row.update(resources(compiled.asm["cubin"]))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", type=int, default=90, help="compute capability × 10 (default 90: H100/H200)")
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--dtypes", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--kernels", nargs="+", default=list(_FUNCTIONS), choices=list(_FUNCTIONS))
    parser.add_argument("--unpruned", action="store_true",
                        help="every block pair with 4 and 8 warps, not the autotuner's pruned list")
    args = parser.parse_args(argv)
    limit = SHARED_LIMIT.get(args.arch, 99 * 1024)
    bad = 0
    print("| kernel | width | dtype | R | N | warps | stages | shared KiB | registers | spill bytes | verdict |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in args.kernels:
        for width in args.widths:
            for dtype in args.dtypes:
                item = 4 if dtype == "fp32" else 2
                configs = kernels._tuning_configs(name, width, item)
                if args.unpruned:
                    configs = [
                        triton.Config({"BLOCK_R": r, "BLOCK_N": n}, num_warps=w, num_stages=2)
                        for r in (16, 32, 64, 128) for n in (16, 32, 64, 128) for w in (4, 8)
                    ]
                for config in configs:
                    row = compile_one(name, config, width, dtype, args.arch)
                    spills = row.get("local", 0) + row.get("stack", 0)
                    verdict = "ok"
                    if row["shared_kib"] * 1024 > limit:
                        verdict, bad = "shared memory over the limit", bad + 1
                    elif spills:
                        verdict = "spills"
                    print(f"| {name} | {width} | {dtype} | {row['BLOCK_R']} | {row['BLOCK_N']} | {row['warps']} "
                          f"| {row['stages']} | {row['shared_kib']:.0f} | {row.get('reg', '?')} | {spills} | {verdict} |",
                          flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
