"""The two-stage trainer: it trains, it checkpoints, and a resumed run equals an uninterrupted one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings

import pytest
import torch

import textedit
from textedit.errors import ConfigError, TextEditError
from textedit.training.checkpoint import latest_checkpoint, load_checkpoint
from textedit.training.config import find_config, shipped_configs
from textedit.training.trainer import Trainer

from textedit.testing import TINY_MIMNET as TINY_MODEL


def _weights(path):
    return load_checkpoint(path)["model"]


def _assert_same(a, b, atol=0.0):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=atol, rtol=0 if atol == 0 else 1e-4, msg=k)


def test_tiny_run_writes_everything(tiny):
    config = tiny()
    trainer = Trainer(config, progress=False)
    exported = trainer.train()
    out = config.output_dir
    assert trainer.step == 4
    assert sorted(p.name for p in (out / "checkpoints").glob("step_*.pt")) == ["step_00000002.pt", "step_00000004.pt"]
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert {"rec_l1", "pgt", "mem", "d_total", "g_adv_total", "images_per_s"} <= set(records[0])
    assert (out / "metrics.csv").read_text().startswith("step,")
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_00000002.png", "step_00000004.png"]
    assert (out / "config.yaml").is_file()
    model = textedit.load_composition(exported)
    vocabulary = model.text_encoder.config.vocabulary
    assert "wings" in vocabulary or "wing" in vocabulary, "the vocabulary comes from the training captions"
    image = torch.zeros(1, 3, 64, 64)
    assert model.edit(image, "a bird with a red head").fine.shape == (1, 3, 64, 64)


def test_memories_only_change_in_the_reconstruction_stage(tiny):
    trainer = Trainer(tiny(ema_decay=None), progress=False)
    before = [p.detach().clone() for p in trainer.recipe.memory_params]
    batch = trainer.training_batch(0)
    trainer.recipe.adversarial_step(batch)
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.recipe.memory_params))
    trainer.recipe.reconstruction_step(batch)
    assert not all(torch.equal(a, b) for a, b in zip(before, trainer.recipe.memory_params))


def test_resume_in_process_equals_uninterrupted(tiny, tmp_path):
    full = Trainer(tiny(output_dir=str(tmp_path / "full")), progress=False)
    full.train()
    first = Trainer(tiny(output_dir=str(tmp_path / "parts")), progress=False)
    assert first.train(max_steps=2) is None
    second = Trainer(tiny(output_dir=str(tmp_path / "parts")), resume=True, progress=False)
    assert second.step == 2
    second.train()
    _assert_same(_weights(latest_checkpoint(tmp_path / "full" / "checkpoints")),
                 _weights(latest_checkpoint(tmp_path / "parts" / "checkpoints")))
    full_log = [json.loads(x) for x in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    part_log = [json.loads(x) for x in (tmp_path / "parts" / "metrics.jsonl").read_text().splitlines()]
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("time", "images_per_s")} for r in rs]  # noqa: E731
    assert strip(full_log) == strip(part_log)


def _cli(*args):
    return [sys.executable, "-m", "textedit", "train", *args]


@pytest.mark.subprocess
def test_killed_run_resumes_exactly(tiny, tmp_path, capsys):
    """SIGKILL a real training process after a checkpoint; the resumed run (``textedit train
    --resume``, in this process: a start less) ends where the uninterrupted run ends, bit for
    bit."""
    import yaml

    from textedit.cli import main

    config = tiny(steps=1000, checkpoint_every=1, sample_every=1000, output_dir=str(tmp_path / "killed"))
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    proc = subprocess.Popen(_cli("--config", str(path), "--no-progress"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    checkpoints = tmp_path / "killed" / "checkpoints"
    deadline = time.time() + 120
    while not (checkpoints / "step_00000002.pt").exists():
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.time() < deadline, "no checkpoint within two minutes"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = load_checkpoint(latest_checkpoint(checkpoints))["step"]
    assert 2 <= killed_at < 1000
    target = killed_at + 2
    assert main(["train", "--resume", str(tmp_path / "killed"), "--max-steps", "2", "--no-progress"]) == 0
    assert f"stopped at step {target}" in capsys.readouterr().out

    reference = Trainer(tiny(steps=1000, checkpoint_every=1000, sample_every=1000,
                             output_dir=str(tmp_path / "reference")), progress=False)
    reference.train(max_steps=target)
    _assert_same(_weights(latest_checkpoint(tmp_path / "reference" / "checkpoints")),
                 _weights(latest_checkpoint(checkpoints)))


@pytest.mark.slow
@pytest.mark.subprocess
def test_two_processes_train_like_one(tiny, tmp_path):
    """torchrun with 2 CPU processes (gloo), each on half the global batch, trains the same
    model as one process on the whole batch. The model must draw no random numbers of its
    own for that (dropout 0): each process would draw its own dropout masks."""
    import yaml

    model = {**TINY_MODEL, "text_encoder": {**TINY_MODEL["text_encoder"], "dropout": 0.0}}
    configs = {
        name: tiny(steps=3, checkpoint_every=3, sample_every=100, ema_decay=None,
                   model=model, output_dir=str(tmp_path / name))
        for name in ("one", "two")
    }
    Trainer(configs["one"], progress=False).train()
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(configs["two"].model_dump(mode="json")))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    two = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "textedit", "train", "--config", str(tmp_path / "two.yaml"), "--no-progress"],
        capture_output=True, text=True, env=env,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    _assert_same(_weights(latest_checkpoint(tmp_path / "one" / "checkpoints")),
                 _weights(latest_checkpoint(tmp_path / "two" / "checkpoints")), atol=1e-4)


def test_mixed_precision_on_the_cpu_needs_native_bf16(tiny, monkeypatch):
    import textedit.training.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda: False)
    with pytest.warns(UserWarning, match="ignored on this CPU"):
        trainer = Trainer(tiny(mixed_precision="bf16", device="cpu"), progress=False)
    assert trainer.autocast_dtype is None
    monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda: True)
    assert Trainer(tiny(mixed_precision="bf16", device="cpu"), progress=False).autocast_dtype == torch.bfloat16
    with pytest.warns(UserWarning, match="ignored on this CPU"):
        Trainer(tiny(mixed_precision="fp16", device="cpu"), progress=False)


@pytest.mark.subprocess
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_checkpoints_the_last_step_and_the_run_resumes_exactly(tiny, tmp_path, stop):
    """Ctrl-C (SIGINT to the process group: the trainer and its data worker), or SIGTERM (a
    scheduler stopping the job), stops at the end of a step with a checkpoint and says how to
    continue; resumed, the run ends where an uninterrupted one does, bit for bit."""
    import yaml

    config = tiny(steps=1000, checkpoint_every=1000, sample_every=1000, output_dir=str(tmp_path / "run"),
                  data={**tiny().data.model_dump(mode="json"), "num_workers": 1})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    proc = subprocess.Popen(
        _cli("--config", str(tmp_path / "c.yaml"), "--no-progress"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    log, deadline = tmp_path / "run" / "metrics.jsonl", time.time() + 120
    while not (log.exists() and len(log.read_text().splitlines()) >= 2):
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "no training step within two minutes"
        time.sleep(0.05)
    os.killpg(proc.pid, stop)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "(checkpointed); continue with: textedit train --resume" in err and "Traceback" not in err
    assert f"interrupted ({'Ctrl-C' if stop == signal.SIGINT else 'SIGTERM'}): finishing this step" in err
    stopped = load_checkpoint(latest_checkpoint(tmp_path / "run" / "checkpoints"))["step"]
    assert 2 <= stopped < 1000
    if stop != signal.SIGINT:
        return  # the same stop as Ctrl-C's: resumed exactly below, once
    Trainer(config, resume=True, progress=False).train(max_steps=1)  # in process: a start less
    reference = Trainer(tiny(steps=1000, checkpoint_every=1000, sample_every=1000,
                             output_dir=str(tmp_path / "reference")), progress=False)
    reference.train(max_steps=stopped + 1)
    _assert_same(_weights(latest_checkpoint(tmp_path / "reference" / "checkpoints")),
                 _weights(latest_checkpoint(tmp_path / "run" / "checkpoints")))


def test_a_trainer_stopped_by_ctrl_c_continues_when_called_again_and_a_finished_run_exports(tiny, monkeypatch):
    """In process (a notebook's Interrupt): the flag Ctrl-C sets stops the run at the end of
    the step; calling train() again continues; a Ctrl-C in the last step still exports."""
    from textedit.training.trainer import TrainingInterrupted

    trainer = Trainer(tiny(steps=3, checkpoint_every=100), progress=False)
    step = trainer.train_step

    def interrupted_at_1(batch=None):
        metrics = step(batch)
        if trainer.step == 1:
            trainer.interrupted = True  # what the SIGINT handler does
        return metrics

    monkeypatch.setattr(trainer, "train_step", interrupted_at_1)
    with pytest.raises(TrainingInterrupted) as info:
        trainer.train()
    assert info.value.step == 1 and load_checkpoint(latest_checkpoint(trainer.out / "checkpoints"))["step"] == 1
    monkeypatch.setattr(trainer, "train_step", step)
    last = step

    def interrupted_in_the_last(batch=None):
        metrics = last(batch)
        trainer.interrupted = trainer.step == 3
        return metrics

    monkeypatch.setattr(trainer, "train_step", interrupted_in_the_last)
    assert trainer.train() is not None and trainer.step == 3, "finished: exported, no interruption"


def test_a_run_stopped_before_its_first_step_says_nothing_was_trained(tiny, tmp_path, monkeypatch, capsys):
    """Ctrl-C while the data workers draw the first batch: no checkpoint, and the message
    says to run the same command again (which starts, not refused as a second run)."""
    import yaml

    from textedit.cli import main

    def stopped_while_drawing(self, step):  # Ctrl-C reached the data workers: no batch came
        self.interrupted = True
        raise RuntimeError("DataLoader worker exited unexpectedly")

    config = tiny()
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "training_batch", stopped_while_drawing)
        assert main(["train", "--config", str(tmp_path / "c.yaml"), "--no-progress"]) == 130
    assert "stopped before the first step: nothing was trained; run the same command again" in capsys.readouterr().err
    assert latest_checkpoint(config.output_dir / "checkpoints") is None
    assert Trainer(config, progress=False).train(max_steps=1) is None  # the same run starts

def test_resuming_a_checkpoint_of_an_older_textedit_warns_of_no_change(tiny):
    Trainer(tiny(), progress=False).train(max_steps=2)
    path = latest_checkpoint(tiny().output_dir / "checkpoints")
    state = torch.load(path, weights_only=False)
    del state["config"]["data"]["reword"]  # a field that textedit did not have yet
    torch.save(state, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(tiny(), resume=True, progress=False)


def test_ema_switched_on_at_resume_starts_from_the_trained_weights(tiny):
    Trainer(tiny(ema_decay=None), progress=False).train(max_steps=2)
    resumed = Trainer(tiny(ema_decay=0.999), resume=True, progress=False)
    assert resumed.step == 2
    for average, live in zip(resumed.ema, resumed.ema_params):
        assert torch.equal(average, live)


def test_a_resumed_run_takes_its_configs_optimiser_settings_and_the_saved_moments(tiny):
    first = Trainer(tiny(), progress=False)
    first.train(max_steps=2)
    moments = {name: o.state_dict()["state"] for name, o in first.optimizers.items()}
    with pytest.warns(UserWarning, match=r"other numerics than the run's \(threads: 1 -> 2\).*not bit for bit"):
        resumed = Trainer(tiny(optimizer={"beta1": 0.9, "weight_decay": 0.05}, threads=2), resume=True, progress=False)
    for name, optimizer in resumed.optimizers.items():
        assert all(g["betas"][0] == 0.9 and g["weight_decay"] == 0.05 for g in optimizer.param_groups), name
        for key, state in optimizer.state_dict()["state"].items():
            torch.testing.assert_close(state["exp_avg"], moments[name][key]["exp_avg"], rtol=0, atol=0)


def test_a_resumed_cosine_schedule_of_another_length_is_named(tiny):
    cosine = {"schedule": "cosine"}
    Trainer(tiny(steps=4, optimizer=cosine), progress=False).train(max_steps=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(tiny(steps=4, optimizer=cosine), resume=True, progress=False)  # same length: silent
    with pytest.warns(UserWarning, match=r"changed from 4 to 8 steps: at step 2 the learning rates move from 50% to 85%"):
        Trainer(tiny(steps=8, optimizer=cosine), resume=True, progress=False)


def test_resume_with_another_model_or_length_or_data_says_what_is_wrong(tiny):
    Trainer(tiny(), progress=False).train(max_steps=2)
    wider = {**TINY_MODEL, "generator": {**TINY_MODEL.get("generator", {}), "channels": 12}}
    with pytest.raises(TextEditError, match="weights do not fit this run's MIMNet.*run's own config"):
        with pytest.warns(UserWarning, match="model.generator.channels: 16 -> 12"):
            Trainer(tiny(model=wider), resume=True, progress=False)
    with pytest.raises(TextEditError, match="at step 2, past this config's length of 1 steps; resume with steps=2"):
        Trainer(tiny(steps=1), resume=True, progress=False)
    with pytest.warns(UserWarning, match=r"another config than the checkpoint's \(data.num_images: 12 -> 16\)"):
        Trainer(tiny(data={**tiny().data.model_dump(mode="json"), "num_images": 16}), resume=True, progress=False)
    with pytest.warns(UserWarning, match=r"another config than the checkpoint's \(batch_size: 4 -> 2\)"):
        Trainer(tiny(batch_size=2), resume=True, progress=False)  # the data stream moves to other images
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # how fast the data comes is no change of what is learned
        Trainer(tiny(data={**tiny().data.model_dump(mode="json"), "num_workers": 1}), resume=True, progress=False)


def test_a_run_stopped_by_max_steps_logs_as_one_that_was_not(tiny, tmp_path):
    Trainer(tiny(log_every=2), progress=False).train(max_steps=1)
    Trainer(tiny(log_every=2), resume=True, progress=False).train()
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4], "the stop at step 1 is not logged"


def test_a_missing_sample_split_is_said(tiny):
    with pytest.warns(UserWarning, match="data.sample_split 'tset': .*the sample grids show training images"):
        Trainer(tiny(data={**tiny().data.model_dump(mode="json"), "sample_split": "tset"}), progress=False)


def test_cli_length_overrides_flags_between_them_and_bad_combinations(tiny, tmp_path, capsys):
    import yaml

    from textedit.cli import main

    config = tiny(steps=None, epochs=1).model_dump(mode="json")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    # steps=N replaces the config's epochs; overrides may stand on either side of a flag
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "steps=1", "--no-progress", "batch_size=2"]) == 0
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert (saved["steps"], saved["epochs"], saved["batch_size"]) == (1, None, 2)
    assert main(["train", "--resume", str(tmp_path / "run"), "--out", str(tmp_path / "x")]) == 1
    assert "leave out --out" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "run"), f"output_dir={tmp_path / 'x'}"]) == 1
    assert "leave out the output_dir override" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "run"), "--config", str(tmp_path / "c.yaml")]) == 1
    assert "leave out --config, and change fields with key=value overrides" in capsys.readouterr().err
    for bad in ("0", "abc"):
        with pytest.raises(SystemExit):
            main(["train", "--resume", str(tmp_path / "run"), "--max-steps", bad])
        assert "must be" in capsys.readouterr().err


def test_a_run_killed_in_its_first_checkpoint_write_can_be_started_again(tiny, tmp_path):
    import yaml

    from textedit.cli import main

    config = tiny(steps=2)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / ".step_00000002.pt.0123456789ab.tmp.pt").write_bytes(b"")  # what a kill leaves
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--no-progress"]) == 0
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step_00000002.pt"], "the leftover is removed"


def test_a_damaged_checkpoint_names_the_earlier_one_to_resume_from(tmp_path):
    from textedit.errors import CheckpointError
    from textedit.training.checkpoint import save_checkpoint

    for step in (1, 2):
        save_checkpoint(tmp_path, step, {"step": step})
    (tmp_path / "step_00000002.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"step_00000002.pt \(.+\): it is damaged; the earlier step_00000001.pt is beside it"):
        load_checkpoint(tmp_path / "step_00000002.pt")
    assert load_checkpoint(tmp_path / "step_00000001.pt")["step"] == 1
    # flipped bytes inside a tensor: torch.load would read them silently, the CRC does not
    save_checkpoint(tmp_path, 3, {"weights": torch.randn(50_000)})
    data = bytearray((tmp_path / "step_00000003.pt").read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(b ^ 0xFF for b in data[len(data) // 2: len(data) // 2 + 64])
    (tmp_path / "step_00000003.pt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"step_00000003.pt \(its record .* fails its CRC check\): it is damaged; the earlier step_00000002.pt"):
        load_checkpoint(tmp_path / "step_00000003.pt")


def test_resume_without_checkpoint_says_what_to_do(tiny, tmp_path, capsys):
    from textedit.cli import main

    with pytest.raises(TextEditError, match="nothing to resume"):
        Trainer(tiny(), resume=True, progress=False)
    assert main(["train", "--resume", str(tmp_path / "gone")]) == 1
    assert "gone does not exist; --resume takes the folder of a training run" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["train", "--resume", str(tmp_path / "empty")]) == 1
    assert "empty is not a training run: it has no config.yaml" in capsys.readouterr().err


def test_cli_refuses_to_overwrite_a_run(tiny, tmp_path, capsys):
    from textedit.cli import main

    config = tiny(steps=2)
    Trainer(config, progress=False).train()
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    assert main(["train", "--config", str(path), "--no-progress"]) == 1
    before = (config.output_dir / "metrics.jsonl").read_text()
    capsys.readouterr()
    assert main(["train", "--resume", str(config.output_dir), "--no-progress"]) == 0  # finished: re-exported
    assert "nothing to train: the run is at its length (2 steps); model saved to" in capsys.readouterr().out
    with pytest.raises(TextEditError, match=r"already holds a training run; continue it with --resume "):
        Trainer(tiny(steps=6), progress=False)  # the Python API refuses too: it used to overwrite the run
    assert (config.output_dir / "metrics.jsonl").read_text() == before
    # a finished run whose checkpoints were deleted (to save space) is still a run
    shutil.rmtree(config.output_dir / "checkpoints")
    with pytest.raises(TextEditError, match=r"holds a training run \(model, metrics.jsonl\) whose checkpoints were deleted: a new run there would overwrite it"):
        Trainer(tiny(steps=6), progress=False)
    with pytest.raises(TextEditError, match=r"nothing to resume in .*: it holds a run \(model, metrics.jsonl\) whose checkpoints .* were deleted.*its trained model is in"):
        Trainer(tiny(steps=6), resume=True, progress=False)
    assert (config.output_dir / "metrics.jsonl").read_text() == before


def test_progress_in_a_log_file_is_one_line_per_logged_step(tiny, capsys):
    Trainer(tiny(log_every=2), progress=True).train(max_steps=2)  # stderr captured: not a terminal
    err = capsys.readouterr().err
    assert "step 2/4 rec=" in err and "img/s=" in err and "\r" not in err and "step 1/4" not in err


def test_a_fresh_run_seeds_every_generator_it_checkpoints(tiny, tmp_path):
    import random

    import numpy as np

    states = []
    for name in ("a", "b"):
        random.random(), np.random.rand()  # whatever came before the run
        Trainer(tiny(output_dir=str(tmp_path / name)), progress=False).train(max_steps=1)
        states.append(load_checkpoint(latest_checkpoint(tmp_path / name / "checkpoints"))["rng"])
    assert states[0]["python"] == states[1]["python"]
    assert torch.equal(states[0]["numpy"][1], states[1]["numpy"][1]) and states[0]["numpy"][2] == states[1]["numpy"][2]


def test_an_output_dir_that_cannot_be_written_is_refused_before_the_data_is_built(tiny, tmp_path, monkeypatch):
    import textedit.training.trainer as trainer_module

    monkeypatch.setattr(trainer_module.os, "access", lambda path, mode: False)  # a read-only file system
    monkeypatch.setattr(trainer_module, "build_training_data", lambda *a, **k: pytest.fail("data built"))
    with pytest.raises(TextEditError, match=r"cannot write the run folder .*run: .* is not writable"):
        Trainer(tiny(), progress=False)


def test_shipped_configs_validate():
    from textedit.config.base import validate_config
    from textedit.config.io import read_config_file
    from textedit.registry.api import resolve_model_config
    from textedit.training.config import TrainConfig

    names = shipped_configs()
    assert {"mimnet64_birds", "mimnet128_cub", "mimnet256_cub", "mimnet128_oxford102",
            "mimnet256_celeba", "mimnet256_deepfashion"} <= set(names)
    for name in names:
        config = validate_config(TrainConfig, read_config_file(find_config(name)), source=name)
        resolve_model_config(config.model)
    with pytest.raises(ConfigError, match="shipped configs: .*mimnet64_birds"):
        find_config("mimnet64_bird")


def test_model_errors_carry_their_full_path_and_the_file():
    from textedit.config.base import validate_config
    from textedit.training.config import TrainConfig

    bad = {"model": {**TINY_MODEL, "generator": {"channels": -3}}, "steps": 1}
    with pytest.raises(ConfigError, match=r"in my.yaml:\n  model.generator.channels: .*greater than 0") as info:
        validate_config(TrainConfig, bad, source="my.yaml")
    assert "<root>" not in str(info.value)
    with pytest.raises(ConfigError, match=r"model: unknown model 'mimnett'"):
        validate_config(TrainConfig, {"model": {"type": "mimnett"}, "steps": 1})
    with pytest.raises(ConfigError, match=r"device: .*device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' \(got 'gpu'\)$"):
        validate_config(TrainConfig, {"model": TINY_MODEL, "steps": 1, "device": "gpu"})


def test_epochs_or_steps():
    from textedit.training.config import TrainConfig

    assert TrainConfig(epochs=2, batch_size=10).total_steps(25) == 5
    with pytest.raises(ValueError, match="exactly one of steps and epochs"):
        TrainConfig(steps=3, epochs=1)
    with pytest.raises(ValueError, match="exactly one"):
        TrainConfig()


def test_true_edit_loss_trains_towards_the_renderers_edit(tiny):
    trainer = Trainer(tiny(steps=1, recipe={"losses": {"true_edit": 10.0}}), progress=False)
    batch = trainer.data.batch(0)
    assert batch.mismatched_targets is not None and batch.mismatched_targets.shape == batch.images.shape
    metrics = trainer.train_step()
    assert metrics["true_edit_l1"] > 0
    assert "true_edit_l1" not in Trainer(tiny(steps=1), progress=False).train_step()


def test_true_edit_target_is_the_edit_of_the_flipped_image():
    from textedit.data.synthetic.data import SyntheticCaptionDataset, SyntheticSpec, make_edit_pair

    spec = SyntheticSpec(family="birds", n=16)
    data = SyntheticCaptionDataset(spec, image_size=32, true_edits=True, seed=3)
    items = [data[i] for i in range(len(data))]
    assert {item["flipped"] for item in items} == {True, False}
    for item in items:
        pair = make_edit_pair(data.scene(item["index"]), item["mismatched_caption"], 32)
        target = pair["target"].flip(-1) if item["flipped"] else pair["target"]
        torch.testing.assert_close(item["mismatched_target"], target)
    assert "mismatched_target" not in SyntheticCaptionDataset(spec, image_size=32)[0]


def test_true_edit_needs_generated_data(tmp_path):
    from textedit.training.config import TrainConfig

    with pytest.raises(ValueError, match="recipe.losses.true_edit needs the true edited images"):
        TrainConfig(steps=1, recipe={"losses": {"true_edit": 1.0}}, data={"type": "folder", "root": str(tmp_path)})


#: the bundled recipe's options on the tiny model
EDIT_OPTIONS = {
    "model": {
        **TINY_MODEL,
        "memory_bank": {**TINY_MODEL["memory_bank"], "score_scale": "sqrt"},
        "generator": {**TINY_MODEL["generator"], "skip_connections": True,
                      "word_attention": "every_level", "attention_keys": "word_and_texture",
                      "output": "composite"},
    },
    "recipe": {"losses": {"true_edit": 10.0, "edit_region": 2.0, "edit_mask": 1.0, "edit_region_weighting": "part"},
               "memory_updates": "every_step"},
    "data": {"type": "synthetic", "family": "birds", "num_images": 12, "sample_split": "test", "reword": 0.5},
    "optimizer": {"lr_generator": 1e-3, "schedule": "cosine", "warmup_steps": 2},
    "channels_last": True,
}


def test_the_bundled_recipes_options_train_and_resume_exactly(tiny, tmp_path, monkeypatch):
    import textedit.training.trainer as trainer_module

    # float32 whatever the CPU, so that the comparison below is exact
    monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda: False)
    whole = Trainer(tiny(**EDIT_OPTIONS, output_dir=str(tmp_path / "one")), progress=False)
    whole.train()
    part = Trainer(tiny(**EDIT_OPTIONS, output_dir=str(tmp_path / "two")), progress=False)
    part.train(max_steps=2)
    resumed = Trainer(tiny(**EDIT_OPTIONS, output_dir=str(tmp_path / "two")), resume=True, progress=False)
    metrics = resumed.train_step()
    assert {"true_edit_l1", "edit_region_l1", "edit_mask_bce"} <= set(metrics)
    resumed.train(max_steps=1)
    _assert_same(_weights(latest_checkpoint(tmp_path / "one" / "checkpoints")),
                 _weights(latest_checkpoint(tmp_path / "two" / "checkpoints")))


def test_memories_learn_in_every_step_when_asked(tiny):
    trainer = Trainer(tiny(**{**EDIT_OPTIONS, "ema_decay": None}), progress=False)
    before = [p.detach().clone() for p in trainer.recipe.memory_params]
    trainer.recipe.adversarial_step(trainer.training_batch(0))
    assert not all(torch.equal(a, b) for a, b in zip(before, trainer.recipe.memory_params))


def test_cosine_schedule_warms_up_then_decays_to_zero(tiny):
    trainer = Trainer(tiny(steps=10, optimizer={"schedule": "cosine", "warmup_steps": 2}), progress=False)
    factors = [trainer.learning_rate_factor(s) for s in range(11)]
    assert factors[:2] == [0.5, 1.0]
    assert all(a >= b for a, b in zip(factors[1:], factors[2:]))
    assert factors[10] == pytest.approx(0.0, abs=1e-12)
    trainer.train_step()
    assert trainer.optimizers["generator"].param_groups[0]["lr"] == pytest.approx(2e-4 * 0.5)
    assert Trainer(tiny(steps=10), progress=False).learning_rate_factor(7) == 1.0


def test_edit_region_loss_weighs_the_changed_pixels_only():
    from textedit.losses import edit_region_loss

    x = torch.zeros(2, 3, 8, 8)
    y = x.clone()
    y[0, :, :2, :2] = 1.0  # image 0: a 2x2 edit; image 1: nothing to change
    assert edit_region_loss([y], [y], [x]).item() == 0.0
    assert edit_region_loss([x], [y], [x]).item() == pytest.approx(0.5)  # (1 + 0) / 2 images
    off_region = y.clone()
    off_region[:, :, 4:, 4:] = 0.7  # wrong outside the region: not this loss's business
    assert edit_region_loss([off_region], [y], [x]).item() == 0.0


def test_part_weighting_counts_a_small_changed_part_as_much_as_a_large_one():
    from textedit.losses import edit_region_loss

    x = torch.zeros(1, 3, 8, 8)
    y = x.clone()
    y[0, :, :4, :4] = 1.0  # a large part (16 pixels) and a small one (1 pixel) change
    y[0, :, 7, 7] = 1.0
    small_wrong = y.clone()
    small_wrong[0, :, 7, 7] = 0.0
    weights = torch.zeros(1, 1, 8, 8)
    weights[0, 0, :4, :4] = 1 / 16
    weights[0, 0, 7, 7] = 1.0
    assert edit_region_loss([small_wrong], [y], [x]).item() == pytest.approx(1 / 17)
    assert edit_region_loss([small_wrong], [y], [x], [weights]).item() == pytest.approx(0.5)


def test_paired_losses_need_generated_data(tmp_path):
    from textedit.training.config import TrainConfig

    with pytest.raises(ValueError, match="recipe.losses.edit_region needs the true edited images"):
        TrainConfig(steps=1, recipe={"losses": {"edit_region": 1.0}}, data={"type": "folder", "root": str(tmp_path)})


def test_edit_mask_loss_balances_changed_and_unchanged_pixels():
    from textedit.errors import TextEditError
    from textedit.losses import edit_mask_loss

    x = torch.zeros(1, 3, 8, 8)
    y = x.clone()
    y[0, :, :2, :2] = 1.0
    changed = (y != x).any(1, keepdim=True).float()
    perfect = edit_mask_loss(changed, y, x).item()
    assert perfect == pytest.approx(0.0, abs=1e-4)
    closed = edit_mask_loss(torch.zeros(1, 1, 8, 8), y, x).item()
    opened = edit_mask_loss(torch.ones(1, 1, 8, 8), y, x).item()
    assert closed == pytest.approx(opened, rel=1e-2)  # 4 changed pixels weigh as much as the 60 others
    with pytest.raises(TextEditError, match="output: composite"):
        edit_mask_loss(torch.zeros(1, 1, 4, 4), y, x)


def test_edit_mask_loss_opens_the_mask_on_the_whole_changed_part_when_given_it():
    from textedit.losses import edit_mask_loss

    x = torch.zeros(1, 3, 8, 8)
    y = x.clone()
    y[0, :, :4:2, :4] = 1.0  # stripes on a 4x4 part: half of its pixels change
    part = torch.zeros(1, 1, 8, 8)
    part[0, 0, :4, :4] = 1 / 16
    stripes = (y != x).any(1, keepdim=True).float()
    whole_part = (part > 0).float()
    # by the changed pixels, the mask must follow the stripes; by the part, it opens on all of it
    assert edit_mask_loss(stripes, y, x).item() < edit_mask_loss(whole_part, y, x).item()
    assert edit_mask_loss(whole_part, y, x, part).item() == pytest.approx(0.0, abs=1e-4)
    assert edit_mask_loss(whole_part, y, x, part).item() < edit_mask_loss(stripes, y, x, part).item()


def _stripes(phase: float, size: int = 64) -> torch.Tensor:
    t = torch.arange(size, dtype=torch.float32)
    amount = (torch.sin(t * 2 * torch.pi / 8 + phase) > 0.3).float()
    image = torch.full((1, 3, size, size), 0.2)
    image[:, :, 8:40, 8:56] += 0.6 * amount[None, None, None, 8:56]  # vertical stripes on a part
    return image


def test_texture_loss_scores_a_shifted_pattern_as_the_pattern_and_a_plain_part_as_wrong():
    from textedit.losses import texture_loss

    truth = _stripes(0.0)
    part = torch.zeros(1, 1, 64, 64)
    part[..., 8:40, 8:56] = 1 / (32 * 48)
    shifted, plain = _stripes(2.0), torch.full_like(truth, 0.2)
    rotated = truth.transpose(-1, -2)  # horizontal stripes: the same energy, another direction
    shifted_loss = texture_loss([shifted], [truth], [part]).item()
    plain_loss = texture_loss([plain], [truth], [part]).item()
    rotated_loss = texture_loss([rotated], [truth], [part]).item()
    assert texture_loss([truth], [truth], [part]).item() == 0.0
    assert shifted_loss < 0.3 * plain_loss
    assert shifted_loss < 0.5 * rotated_loss
    # the pixel loss prefers the plain part to the shifted pattern: why this term exists
    region = part > 0
    assert (plain - truth).abs()[region.expand_as(truth)].mean() < (shifted - truth).abs()[region.expand_as(truth)].mean()
    # stages below 32 px carry no pattern worth reading
    small = [torch.nn.functional.avg_pool2d(i, 4) for i in (plain, truth)]
    assert texture_loss([small[0]], [small[1]], [torch.ones(1, 1, 16, 16)]).item() == 0.0


def test_texture_loss_needs_part_weights():
    from textedit.errors import TextEditError
    from textedit.losses import PairedLossWeights, paired_edit_loss

    image = torch.zeros(1, 3, 32, 32)
    with pytest.raises(TextEditError, match="losses.texture needs"):
        paired_edit_loss(PairedLossWeights(texture=1.0), [image], [image], [image])


def test_each_paired_loss_alone_gets_its_true_edits(tiny):
    for name in ("edit_region", "edit_mask", "texture"):
        fields = {"recipe": {"losses": {name: 1.0}}}
        if name == "edit_mask":
            fields["model"] = EDIT_OPTIONS["model"]
            fields["recipe"]["losses"]["edit_mask_region"] = "parts"
        metrics = Trainer(tiny(steps=1, **fields), progress=False).train_step()
        assert {"true_edit_l1", "edit_region_l1"} <= set(metrics)
        assert ("edit_mask_bce" in metrics) == (name == "edit_mask")
        assert ("texture_l1" in metrics) == (name == "texture")


def test_dataloader_workers_give_the_batches_of_the_main_process(tiny):
    # data.num_workers > 0 used to hang: the batch sampler was a list over an endless count
    from textedit.training.data import build_training_data

    plain = build_training_data(tiny(recipe={"losses": {"true_edit": 1.0}}))
    workers = build_training_data(tiny(recipe={"losses": {"true_edit": 1.0}}, data={**tiny().data.model_dump(), "num_workers": 2}))
    for step in (0, 1, 2, 5):  # consecutive, then a jump (the loader restarts)
        a, b = plain.batch(step), workers.batch(step)
        assert a.captions == b.captions and a.mismatched == b.mismatched and a.seeds == b.seeds
        assert torch.equal(a.images, b.images) and torch.equal(a.mismatched_targets, b.mismatched_targets)


def test_a_dropped_trainer_stops_its_data_workers_at_once(tiny, monkeypatch):
    """A Trainer and its recipe refer to each other, so a dropped Trainer dies in a garbage
    collection. Its data workers must still be asked to stop: when the loader died in the
    cycle they were not, and the collection waited out torch's status-check interval (5 s)
    once per worker. Here that interval is 30 s, so a regression shows as a minute."""
    import gc
    import torch.utils.data._utils as loader_utils

    monkeypatch.setattr(loader_utils, "MP_STATUS_CHECK_INTERVAL", 30.0)  # the main process's join
    monkeypatch.setattr(loader_utils.worker, "MP_STATUS_CHECK_INTERVAL", 30.0)  # the workers' wait
    trainer = Trainer(tiny(steps=100, data={**tiny().data.model_dump(), "num_workers": 2}), progress=False)
    trainer.train_step()
    start = time.perf_counter()
    del trainer
    gc.collect()
    assert time.perf_counter() - start < 15, "the workers were not told to stop"


def test_the_data_workers_read_pickles_whole(tiny):
    """Where workers start by spawning (macOS, Windows), each receives the data set pickled:
    the shipped configs use a worker, so the pickled copy must give the same items."""
    import pickle

    from textedit.training.data import build_training_data

    data = build_training_data(tiny(recipe={"losses": {"true_edit": 1.0}}, data={**tiny().data.model_dump(), "reword": 0.5}))
    copy = pickle.loads(pickle.dumps(data.positions))
    for k in (0, 3, 17):
        a, b = data.positions[k], copy[k]
        assert a.keys() == b.keys()
        for key in a:
            same = torch.equal(a[key], b[key]) if isinstance(a[key], torch.Tensor) else a[key] == b[key]
            assert same, key


def test_training_with_workers_resumes_exactly(tiny, tmp_path):
    # The bar: data.num_workers=2 trains and resumes exactly (loader restarted on resume).
    data = {**tiny().data.model_dump(), "num_workers": 2, "pin_memory": False}
    plain = Trainer(tiny(output_dir=str(tmp_path / "plain")), progress=False)
    plain.train()
    first = Trainer(tiny(output_dir=str(tmp_path / "workers"), data=data), progress=False)
    first.train(max_steps=2)
    second = Trainer(tiny(output_dir=str(tmp_path / "workers"), data=data), resume=True, progress=False)
    second.train()
    _assert_same(_weights(latest_checkpoint(tmp_path / "plain" / "checkpoints")),
                 _weights(latest_checkpoint(tmp_path / "workers" / "checkpoints")))


def test_training_from_a_packed_data_set_with_true_edits(tiny, tmp_path):
    from textedit.data.packed import pack_generated
    from textedit.data.synthetic.data import SyntheticSpec

    root = tmp_path / "packed"
    pack_generated(root, SyntheticSpec(family="birds", n=12, seed=0), image_size=64, edits_per_image=1)
    data = {"type": "packed", "root": str(root), "reword": 0.5, "num_workers": 1, "sample_split": "test"}
    trainer = Trainer(tiny(data=data, recipe={"losses": {"true_edit": 1.0}}), progress=False)
    assert trainer.train() is not None
    assert "true_edit_l1" in trainer.train_step()
    with pytest.warns(UserWarning, match="data.family is 'flowers', but the packed data set .* holds 'birds'"):
        Trainer(tiny(data={**data, "family": "flowers"}, output_dir=str(tmp_path / "f")), progress=False)


def test_compile_option_compiles_the_model_before_training(tiny, monkeypatch):
    from textedit.interfaces.composition import Composition

    compiled = []
    monkeypatch.setattr(Composition, "compile_components", lambda self, **kw: compiled.append(self) or self)
    trainer = Trainer(tiny(compile=True, steps=1, checkpoint_every=1, sample_every=1), progress=False)
    assert compiled == [trainer.model]
    assert trainer.train() is not None


def test_compiled_components_edit_like_eager_ones_and_keep_their_weight_names():
    # traced by dynamo with the eager backend (inductor's code generation takes a minute here)
    import textedit
    from textedit.testing import TINY_MIMNET

    torch.manual_seed(0)
    model = textedit.create_model(TINY_MIMNET).eval()
    image, text = torch.rand(1, 3, 64, 64) * 2 - 1, "a bird with a red head"
    eager = model.edit(image, text).images[-1]
    keys = list(model.state_dict())
    assert model.compile_components(backend="eager") is model
    assert list(model.state_dict()) == keys, "compiling must not rename the weights"
    torch.testing.assert_close(model.edit(image, text).images[-1], eager)


def test_device_cuda_gets_an_index(monkeypatch):
    # `textedit train device=cuda` crashed: torch.cuda.set_device(torch.device("cuda"))
    from textedit.training.distributed import DistributedContext

    chosen = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_device", lambda d: chosen.append(torch.device(d)))
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setenv("LOCAL_RANK", "0")
    for device in ("cuda", "auto", "cuda:0"):
        assert DistributedContext.from_environment(device).device == torch.device("cuda:0")
    assert chosen == [torch.device("cuda:0")] * 3


def test_adam_is_fused_on_the_cpu_where_pytorch_has_it_unless_turned_off(tiny, monkeypatch):
    import textedit.training.trainer as trainer_module

    def fused(trainer):
        return {g["fused"] for o in trainer.optimizers.values() for g in o.param_groups}

    expected = trainer_module._fused_adam_on_cpu()
    assert expected == (tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4))
    assert fused(Trainer(tiny(), progress=False)) == ({True} if expected else {None, False})
    assert fused(Trainer(tiny(fused_optimizer=False), progress=False)) <= {None, False}
    monkeypatch.setattr(trainer_module, "_fused_adam_on_cpu", lambda: False)  # an older PyTorch
    assert fused(Trainer(tiny(), progress=False)) <= {None, False}


def test_a_data_root_of_another_layout_names_the_data_type_to_set(tmp_path):
    from textedit.errors import InputError
    from textedit.training.config import TrainDataConfig
    from textedit.training.data import open_dataset

    (tmp_path / "captions.jsonl").write_text('{"image": "a.png", "captions": ["a red bird"]}\n')
    data = TrainDataConfig(type="cub", root=tmp_path)
    with pytest.raises(InputError, match="looks like a 'folder' data set: set data.type=folder"):
        open_dataset(data, "train", 64, train=True, seed=0)
    (tmp_path / "captions.jsonl").unlink()  # an empty folder looks like nothing: no hint
    with pytest.raises(InputError) as info:
        open_dataset(data, "train", 64, train=True, seed=0)
    assert "looks like" not in str(info.value)


def test_the_logs_rewritten_on_resume_are_replaced_atomically(tmp_path, monkeypatch):
    import textedit.training.metrics as metrics

    logger = metrics.MetricsLogger(tmp_path, tensorboard=False)
    for step in (1, 2, 3):
        logger.log({"step": step, "loss": 0.5})
    logger.close()
    before = {name: (tmp_path / name).read_text() for name in ("metrics.jsonl", "metrics.csv")}

    def killed(*args, **kwargs):  # a run stopped in the middle of the rewrite
        raise KeyboardInterrupt

    monkeypatch.setattr(metrics.json, "dumps", killed)
    with pytest.raises(KeyboardInterrupt):
        metrics.MetricsLogger(tmp_path, resume_step=2, tensorboard=False)
    assert {name: (tmp_path / name).read_text() for name in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv", "metrics.jsonl"], "no temporary file left"


def test_a_learning_rate_for_a_group_the_recipe_lacks_is_refused(tiny):
    optimizer = {"learning_rates": {"generatr": 1e-3}}
    with pytest.raises(ConfigError, match=r"optimizer.learning_rates.generatr: .* no parameter group 'generatr'; its groups: generator, discriminator"):
        Trainer(tiny(optimizer=optimizer), progress=False)
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"learning_rates.generator\s+Input should be greater than 0"):
        tiny(optimizer={"learning_rates": {"generator": -1}})


def test_a_finished_run_trained_further_does_not_pass_off_its_old_export(tiny, tmp_path):
    from textedit.errors import CheckpointError

    Trainer(tiny(), progress=False).train()
    run = tmp_path / "run"
    assert json.loads((run / "export.json").read_text()) == {"step": 4}
    Trainer(tiny(steps=6), resume=True, progress=False).train(max_steps=1)
    with pytest.raises(CheckpointError, match=r"exported at step 4, and the run has trained on to step 5 .*--resume"):
        textedit.load(run)
    assert textedit.load(run / "model") is not None, "the old export, asked for by its folder"
    Trainer(tiny(steps=6), resume=True, progress=False).train()
    textedit.load(run)


def test_a_run_fine_tunes_a_trained_model_from_its_weights(tiny, tmp_path):
    """init_from: the run starts from the trained model's weights, architecture and
    vocabulary (not one built from the new captions), and resumes without reading it again."""
    first = Trainer(tiny(output_dir=str(tmp_path / "first"), steps=2), progress=False)
    first.train()
    trained = textedit.load(tmp_path / "first")
    config = tiny(model=None, init_from=str(tmp_path / "first"), steps=3, output_dir=str(tmp_path / "tuned"),
                         data={"type": "synthetic", "family": "birds", "num_images": 12, "data_seed": 7, "sample_split": None})
    tuned = Trainer(config, progress=False)
    assert tuned.model.text_encoder.config.vocabulary == trained.text_encoder.config.vocabulary
    for key, value in trained.state_dict().items():
        torch.testing.assert_close(tuned.model.state_dict()[key], value, rtol=0, atol=0, msg=key)
    tuned.train(max_steps=2)
    shutil.rmtree(tmp_path / "first")  # a resumed run does not read it again
    resumed = Trainer(config, resume=True, progress=False)
    resumed.train()
    assert resumed.step == 3 and (tmp_path / "tuned" / "model").is_dir()
    with pytest.raises(ValueError, match=r"init_from: no model .*gone'"):  # pydantic's wrapper of the ConfigError
        tiny(model=None, init_from=str(tmp_path / "gone"))
    other = tiny(init_from=str(tmp_path / "tuned"), output_dir=str(tmp_path / "wider"),
                        model={**tiny().model, "generator": {"channels": 24, "base_channels": 8}})
    with pytest.raises(ConfigError, match=r"init_from: the weights of .* do not fit the model this config builds.*init_partial"):
        Trainer(other, progress=False)


def test_a_fine_tuning_run_changes_a_slot_and_copies_the_weights_that_fit(tiny, tmp_path):
    """init_from with `model` overrides (no `type`): the trained model's spec with one slot
    changed; init_partial copies the fitting weights and names the fresh ones."""
    Trainer(tiny(output_dir=str(tmp_path / "first"), steps=1), progress=False).train()
    trained = textedit.load(tmp_path / "first").state_dict()
    changed = {"generator": {"channels": 24}}
    config = tiny(model=changed, init_from=str(tmp_path / "first"), init_partial=True, output_dir=str(tmp_path / "tuned"))
    assert config.model["type"] == "mimnet" and config.model["generator"]["channels"] == 24
    assert config.model["memory_bank"]["num_slots"] == TINY_MODEL["memory_bank"]["num_slots"]
    with pytest.warns(UserWarning, match=r"init_partial: \d+ of \d+ weights copied from .*first; freshly initialised: generator \(\d+ of \d+ tensors\), localizer \(1 of 1 tensors\); not used: \d+") as caught:
        tuned = Trainer(config, progress=False)
    assert caught[0].filename == __file__
    state = tuned.model.state_dict()
    for key, value in trained.items():  # the localizer reads the generator's width: it changed too
        if not key.startswith(("generator.", "localizer.")):
            torch.testing.assert_close(state[key], value, rtol=0, atol=0, msg=key)
    assert any(state[k].shape != v.shape for k, v in trained.items() if k.startswith("generator."))
    tuned.train(max_steps=1)
    # a model of another kind is refused, even with init_partial
    with pytest.raises(ConfigError, match=r"init_from: .*first is a MIMNet model and this config builds a TAGAN"):
        Trainer(tiny(model={"type": "tagan_64"}, init_from=str(tmp_path / "first"), init_partial=True,
                     output_dir=str(tmp_path / "other")), progress=False)
    # a full spec (with a type) keeps the trained model's vocabulary; another one is refused
    full = tiny(model=TINY_MODEL, init_from=str(tmp_path / "first"), output_dir=str(tmp_path / "full"), steps=2)
    full_run = Trainer(full, progress=False)
    assert list(full_run.model.text_encoder.config.vocabulary) == config.model["text_encoder"]["vocabulary"]
    full_run.train(max_steps=1)
    words = [*config.model["text_encoder"]["vocabulary"], "zebra"]
    other_words = {**TINY_MODEL, "text_encoder": {**TINY_MODEL["text_encoder"], "vocabulary": words}}
    with pytest.raises(ConfigError, match=r"init_from: the text encoder's vocabulary \(\d+ words\) is not the one"):
        Trainer(tiny(model=other_words, init_from=str(tmp_path / "first"), output_dir=str(tmp_path / "words")), progress=False)
    shutil.rmtree(tmp_path / "first")  # a resumed run does not read it again
    Trainer(full, resume=True, progress=False).train()


def test_a_vocabulary_the_config_gives_is_kept(tiny):
    words = ["<pad>", "<unk>", "red", "zebra", "bird"]
    model = {**TINY_MODEL, "text_encoder": {**TINY_MODEL["text_encoder"], "vocabulary": words}}
    trainer = Trainer(tiny(model=model), progress=False)
    assert list(trainer.model.text_encoder.config.vocabulary) == words
    assert "zebra" not in Trainer(tiny(output_dir=str(trainer.out) + "_b"), progress=False).model.text_encoder.config.vocabulary


def test_mimnet_wires_the_widths_another_discriminator_reads(tiny):
    # AttnGAN's discriminator reads the sentence feature: its width comes from MIM-Net's text encoder
    model = {**TINY_MODEL, "discriminator": {"type": "attngan", "base_channels": 4, "max_channels": 16}}
    trainer = Trainer(tiny(model=model, steps=1), progress=False)
    metrics = trainer.train_step()
    assert metrics and all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
