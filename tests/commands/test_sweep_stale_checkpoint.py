"""A sweep never scores a last.ckpt saved before its fit's last step: the run is not done, and its
retry resumes from that checkpoint and trains to the end (issue #28: Lightning 2.6 kept last.ckpt
at the best step, so five runs were scored at an earlier step than their fit reached)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from holozero.commands import sweep


def _fake_fit(saves_at: list[int], calls: list[list[str]]):
    """A stand-in for the commands: a fit that finishes at step 6 and leaves last.ckpt at the next
    step of ``saves_at``; anything else (the test) succeeds."""

    def run(cmd, **kwargs):
        calls.append(cmd)
        if cmd[3] != "fit":
            return 0
        version = Path(cmd[cmd.index("--trainer.default_root_dir") + 1]) / "lightning_logs" / "version_0"
        (version / "checkpoints").mkdir(parents=True, exist_ok=True)
        (version / "fit_status.json").write_text(json.dumps({"state": "finished", "step": 6, "target_step": 6}))
        ckpt = {"holozero": {}, "state_dict": {}, "global_step": saves_at.pop(0)}
        torch.save(ckpt, version / "checkpoints" / "last.ckpt")
        return 0

    return run


def _execute(tmp_path, monkeypatch, saves_at: list[int]) -> tuple[str, list[list[str]], Path]:
    calls: list[list[str]] = []
    monkeypatch.setattr(sweep.CHILDREN, "run", _fake_fit(saves_at, calls))
    spec = {"folder": str(tmp_path), "base": [], "test": True}
    result = sweep.execute(spec, {"seed": 0}, tmp_path / "out", threads=1)
    return result, [c[3] for c in calls], tmp_path / "out" / "runs" / "seed=0"


def test_a_stale_last_checkpoint_is_not_scored_and_the_retry_trains_to_the_end(tmp_path, monkeypatch):
    result, calls, root = _execute(tmp_path, monkeypatch, saves_at=[4, 6])
    assert result == "done" and calls == ["fit", "fit", "test"]  # the stale one was never tested
    assert "is at step 4, but the fit finished at step 6" in (root / "attempt1.log").read_text()
    assert json.loads((root / "status.json").read_text())["attempts"] == 2
    assert (root / "command.txt").read_text().count("--ckpt_path last") == 1  # attempt 2 resumed


def test_a_stale_last_checkpoint_twice_fails_the_run(tmp_path, monkeypatch):
    result, calls, root = _execute(tmp_path, monkeypatch, saves_at=[4, 4])
    assert result == "failed" and calls == ["fit", "fit"]
    assert json.loads((root / "status.json").read_text())["status"] == "failed"


def test_a_last_checkpoint_at_the_fit_step_is_scored_at_once(tmp_path, monkeypatch):
    result, calls, _ = _execute(tmp_path, monkeypatch, saves_at=[6])
    assert result == "done" and calls == ["fit", "test"]
