"""A stopped run is never a finished one: real SIGTERM / SIGINT sent to a real ``holozero fit``
process save the run, name its step and the resume command, exit 143 / 130, and the resumed run
ends exactly as an uninterrupted one; the last step is always validated, on one step numbering."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import scalars, tiny_fit_args, write_docs

from datamodules.controls import markov2_chain

pytestmark = pytest.mark.slow  # end-to-end runs and subprocesses

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    chain = markov2_chain(alphabet=16, alpha=0.5, seed=3)
    return write_docs(
        tmp_path_factory.mktemp("corpus"), [chain.sample(4000, np.random.default_rng(i)) for i in range(6)]
    )


def _env() -> dict:
    # tests/commands only (tests/ itself holds folders named like the packages it tests)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    env.pop("HOLOZERO_DEBUG", None)
    return env


def _fit(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "holozero", "fit", *args]
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600)


def _fit_and_signal(args: list[str], cwd: Path, step: int, sig: int) -> subprocess.CompletedProcess:
    marker = cwd / f"at-step-{step}"
    pause = ["--trainer.callbacks+=pause_at_step.PauseAtStep", f"--trainer.callbacks.step={step}"]
    pause += [f"--trainer.callbacks.marker={marker}"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "holozero", "fit", *args, *pause],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), proc.communicate()[1][-3000:]
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _status(root: Path) -> dict:
    return json.loads((root / "lightning_logs" / "version_0" / "fit_status.json").read_text())


def _resume_command(stderr: str) -> str:
    line = next(x for x in stderr.splitlines() if x.strip().startswith("resume: "))
    return line.strip().removeprefix("resume: ")


@pytest.mark.parametrize(("sig", "code", "step"), [(signal.SIGTERM, 143, 6), (signal.SIGINT, 130, 8)])
def test_a_signal_saves_the_run_exits_nonzero_and_the_resume_ends_as_an_uninterrupted_run(
    corpus, tmp_path, sig, code, step
):
    """Step 6 is between validations; step 8 is a validation step (validated before the stop)."""
    whole = _fit(tiny_fit_args(corpus, tmp_path / "a", 12), tmp_path)
    assert whole.returncode == 0, whole.stderr[-2000:]
    assert _status(tmp_path / "a") | {"resume": None} == _status(tmp_path / "a")
    assert _status(tmp_path / "a")["state"] == "finished" and _status(tmp_path / "a")["step"] == 12

    stopped = _fit_and_signal(tiny_fit_args(corpus, tmp_path / "b", 12), tmp_path, step, sig)
    name = signal.Signals(sig).name
    assert stopped.returncode == code, stopped.stderr[-3000:]
    assert f"stopped by {name} at step {step}, not finished; saved at step {step}" in stopped.stderr
    status = _status(tmp_path / "b")
    assert (status["state"], status["step"], status["target_step"]) == ("stopped", step, 12)

    resume = _resume_command(stopped.stderr)
    assert resume.endswith("--ckpt_path last") and f"cd {shlex.quote(str(tmp_path))} && holozero fit" in resume
    argv = shlex.split(resume.split(" && ", 1)[1])
    resumed = _fit(argv[2:], tmp_path)  # the printed command, run as `python -m holozero fit ...`
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _status(tmp_path / "b")["state"] == "finished" and _status(tmp_path / "b")["step"] == 12

    a = scalars(tmp_path / "a" / "lightning_logs" / "version_0")
    b = scalars(tmp_path / "b" / "lightning_logs" / "version_0")
    assert a["val/bpb"][-1] == b["val/bpb"][-1]
    assert [v for v in b["train/loss"] if v[0] > step] == [v for v in a["train/loss"] if v[0] > step]


def test_the_last_step_is_validated_and_checkpointed_on_the_step_numbering_of_the_checkpoint(corpus, tmp_path):
    """10 steps validated every 4: validation at 4, 8 and the final 10, each logged at the step the
    checkpoint of that validation records (not one less)."""
    done = _fit(tiny_fit_args(corpus, tmp_path / "run", 10), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    run = tmp_path / "run" / "lightning_logs" / "version_0"
    assert [s for s, _ in scalars(run)["val/bpb"]] == [4, 8, 10]
    import torch

    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["global_step"] == 10


def test_a_run_that_ends_before_its_target_is_not_finished(corpus, tmp_path):
    """A wall-clock limit of Lightning's own (max_time) ends the run early: exit 1, state stopped."""
    args = tiny_fit_args(corpus, tmp_path / "run", 100000) + ["--trainer.max_time", "00:00:00:02"]
    done = _fit(args, tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    status = _status(tmp_path / "run")
    assert status["state"] == "stopped" and status["step"] < status["target_step"] == 100000
    assert "not finished" in done.stderr
