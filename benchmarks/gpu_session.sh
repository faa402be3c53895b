#!/usr/bin/env bash
# Everything a lent GPU machine checks, in one call of the device tool (docs/gpu.md):
#   1. installs what the machine lacks (pydantic, entrypoints: wheels carried in .whl/) and
#      this checkout (editable, so the entry points exist);
#   2. benchmarks/gpu.py: kernels, edit, training, the trainer, the data pipeline;
#   3. the whole test suite with the GPU tests (pytest -m "gpu or not gpu");
#   4. `textedit train device=cuda` and `device=auto` for a few steps.
# Each step has its own time limit (320 + 160 + 2 × 40 s), inside one device call's 10 minutes.
# Results go to $OUT (the device tool brings that folder back). On a machine without CUDA,
# QUICK=1 runs the same steps at smoke-test sizes on the CPU (how the script is checked).
set -uo pipefail
OUT="${OUT:-/tmp/gpu-session}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
    # editable, so that the entry points exist; built-in components register in code, so
    # the source tree on PYTHONPATH is the fallback if this machine's setuptools cannot build
    python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . \
        || { echo "editable install failed: using src/ on PYTHONPATH"; export PYTHONPATH=/tmp/site:$PWD/src; }
fi
python3 - <<'PY' | tee "$OUT/machine.txt"
import torch, os
print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0), os.cpu_count(), "cpus")
PY
if [ "${QUICK:-0}" = 1 ]; then
    bench=(--device cpu --quick); tests=(tests/gpu tests/unit/test_memory_attention_backends.py); workers=2
    train=(device=cpu data.num_images=500); steps=2
else
    bench=(); tests=(tests); workers=14; train=(device=cuda mixed_precision=bf16 batch_size=64 data.num_images=2000); steps=20
fi
status=0
timeout 320 python3 benchmarks/gpu.py "${bench[@]}" --out "$OUT/bench" 2>&1 | tail -60 || status=1
timeout 160 python3 -m pytest -q -n "$workers" -m "gpu or not gpu" -p no:cacheprovider "${tests[@]}" \
    > "$OUT/pytest.txt" 2>&1 || status=1
tail -15 "$OUT/pytest.txt"
runs=$(mktemp -d)  # a fresh run folder each time: train refuses to overwrite a run
for device in "${train[0]}" device=auto; do
    timeout 40 python3 -m textedit train --config mimnet64_birds_paired "${train[@]}" "$device" steps=$steps \
        checkpoint_every=$steps sample_every=$steps output_dir=$runs/${device#device=} --no-progress \
        > "$OUT/train-${device#device=}.txt" 2>&1 || status=1
    tail -3 "$OUT/train-${device#device=}.txt"
done
exit $status
