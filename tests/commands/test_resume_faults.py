"""Runs that survive faults: kill and resume, non-finite loss, bad checkpoints, DDP validate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import run_cli, scalars, tiny_fit_args, write_docs
from lightning.pytorch.callbacks import Callback

from datamodules.controls import markov2_chain

pytestmark = pytest.mark.slow  # end-to-end runs and subprocesses

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    chain = markov2_chain(alphabet=16, alpha=0.5, seed=3)
    return write_docs(
        tmp_path_factory.mktemp("corpus"), [chain.sample(4000, np.random.default_rng(i)) for i in range(6)]
    )


def _args(corpus, root: Path, steps: int = 12, door: str = "ZeroDoor", K: int = 2) -> list[str]:
    return tiny_fit_args(corpus, root, steps, door=door, K=K)


def _python(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=600)


def _holozero(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holozero", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_kill_and_resume_equals_an_uninterrupted_run(corpus, tmp_path):
    """Every part in a fresh process, as a user's restart is."""
    whole = _holozero("fit", *_args(corpus, tmp_path / "a"))
    assert whole.returncode == 0, whole.stderr[-2000:]
    killed = _python(
        "import sys; sys.path.insert(0, 'tests'); from holozero.commands import main; "
        f"main(['fit', *{_args(corpus, tmp_path / 'b')!r}, '--trainer.callbacks+=helpers.KillAtStep', "
        "'--trainer.callbacks.step=10'])"
    )
    assert killed.returncode == -9, killed.stderr[-2000:]  # SIGKILL mid-run, after the step-8 checkpoint
    resumed = _holozero("fit", *_args(corpus, tmp_path / "b"), "--ckpt_path", "last")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a = scalars(tmp_path / "a" / "lightning_logs" / "version_0")
    b = scalars(tmp_path / "b" / "lightning_logs" / "version_0")  # the resumed run logs into the same run
    assert a["val/bpb"][-1] == b["val/bpb"][-1] and a["val/bpb"][-1][0] == 12  # the last step, validated
    resumed_losses = [v for v in b["train/loss"] if v[0] >= 8][-4:]
    assert resumed_losses == [v for v in a["train/loss"] if v[0] >= 8]


class PoisonAt(Callback):
    """Writes NaN into one weight at the start of training step ``step``."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, lm, batch, batch_idx):
        if trainer.global_step == self.step:
            with torch.no_grad():
                lm.net.body.head.weight[0, 0] = float("nan")


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(corpus, tmp_path):
    args = _args(corpus, tmp_path / "run") + ["--trainer.log_every_n_steps", "50"]  # caught by the save guard
    with pytest.raises(FloatingPointError, match="non-finite training loss at step 6"):
        run_cli(["fit", *args, "--trainer.callbacks+=test_resume_faults.PoisonAt", "--trainer.callbacks.step=6"])
    last = next((tmp_path / "run" / "lightning_logs").iterdir()) / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, weights_only=True)
    assert ckpt["global_step"] == 4  # nothing written after the bad step
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values() if v.is_floating_point())


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    run_cli(["fit", *_args(corpus, root, steps=4)])
    return next((root / "lightning_logs").iterdir()) / "checkpoints" / "last.ckpt", root


def test_checkpoints_load_weights_only_and_carry_their_model(trained):
    ckpt = torch.load(trained[0], weights_only=True)
    assert ckpt["holozero"]["door"] == "ZeroDoor" and ckpt["holozero"]["K"] == 2
    assert ckpt["holozero"]["model_config"]["door"]["class_path"] == "holozero.doors.ZeroDoor"


def test_corrupt_checkpoint_is_named(corpus, trained, tmp_path):
    bad = tmp_path / "broken.ckpt"
    bad.write_bytes(trained[0].read_bytes()[:1000])
    with pytest.raises(ValueError, match=f"checkpoint {bad} is corrupt"):
        run_cli(["validate", *_args(corpus, tmp_path), "--ckpt_path", str(bad)])


@pytest.mark.parametrize(
    "change,message",
    [
        (dict(door="HSLProjDoor"), "door: checkpoint 'ZeroDoor' vs config 'HSLProjDoor'"),
        (dict(K=1), "K: checkpoint 2 vs config 1"),
    ],
)
def test_mismatched_checkpoint_says_which(corpus, trained, tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        run_cli(["validate", *_args(corpus, tmp_path, **change), "--ckpt_path", str(trained[0])])
