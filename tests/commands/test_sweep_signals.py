"""A sweep stopped by SIGTERM passes it to its runs, records them stopped (not failed, not done)
and exits 143; the same command resumes them from their checkpoints to the end; a stopped run
with no checkpoint left (a new machine) starts over in its own folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from holozero.commands.report import main as report_main

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
SWEEPS = HERE.parents[1] / "configs" / "sweeps"


def _spec(tmp_path: Path, marker: Path, pause_at: int = 6) -> Path:
    shutil.copy(SWEEPS / "tiny_text.yaml", tmp_path / "tiny_text.yaml")
    spec = {
        "base": ["tiny_text.yaml"],
        "grid": {"door": ["zero"], "seed": [0]},
        "args": [
            "--trainer.max_steps", "12", "--trainer.val_check_interval", "4",
            "--trainer.callbacks+=pause_at_step.PauseAtStep", f"--trainer.callbacks.step={pause_at}",
            f"--trainer.callbacks.marker={marker}",
        ],
        "test": True,
    }  # fmt: skip
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _sweep(spec: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "holozero", "sweep", str(spec), "--out", str(out)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_stopped_sweep_records_its_runs_stopped_and_resumes_them(tmp_path):
    marker, out = tmp_path / "at-step-6", tmp_path / "out"
    spec = _spec(tmp_path, marker)
    proc = _sweep(spec, out)
    deadline = time.monotonic() + 300
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), proc.communicate()[1][-3000:]
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 143, stderr[-3000:]
    assert "1 stopped (run the same command to resume them)" in stdout
    root = out / "runs" / "door=zero,seed=0"
    assert json.loads((root / "status.json").read_text())["status"] == "stopped"
    assert json.loads((root / "status.json").read_text())["attempts"] == 0  # a stop is not a failed attempt
    fit = json.loads((root / "lightning_logs" / "version_0" / "fit_status.json").read_text())
    assert (fit["state"], fit["step"], fit["target_step"]) == ("stopped", 6, 12)

    marker.unlink()
    again = _sweep(spec, out)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr[-3000:]
    assert json.loads((root / "status.json").read_text())["status"] == "done"
    fit = json.loads((root / "lightning_logs" / "version_0" / "fit_status.json").read_text())
    assert (fit["state"], fit["step"]) == ("finished", 12)
    assert not marker.exists()  # resumed after step 6: the pause never came again
    assert "--ckpt_path last" in (root / "command.txt").read_text()
    report_main([str(out)])
    (row,) = json.loads((out / "report" / "summary.json").read_text())
    assert row["done"] == 1


def test_a_stopped_run_without_its_checkpoint_starts_over_in_its_own_folder(tmp_path):
    """As after a new checkout: the run folder and its status came back, the checkpoints did not."""
    marker, out = tmp_path / "at-step-6", tmp_path / "out"
    spec = _spec(tmp_path, marker)
    proc = _sweep(spec, out)
    while not marker.exists() and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=300)
    root = out / "runs" / "door=zero,seed=0"
    shutil.rmtree(root / "lightning_logs" / "version_0" / "checkpoints")
    again = _sweep(_spec(tmp_path, marker, pause_at=1000), out)  # no pause this time
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr[-3000:]
    assert [p.name for p in (root / "lightning_logs").iterdir()] == ["version_0"]
    fit = json.loads((root / "lightning_logs" / "version_0" / "fit_status.json").read_text())
    assert (fit["state"], fit["step"]) == ("finished", 12)
    assert "--ckpt_path last" not in (root / "command.txt").read_text()  # started over
