"""scripts/study_archive.py: a done run's small files go into the archive (never a checkpoint, never
an unfinished run) and come back into a sweep folder that the same sweep then skips."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import study_archive  # noqa: E402


def _run(sweep: Path, name: str, status: str) -> Path:
    run = sweep / "runs" / name
    version = run / "lightning_logs" / "version_0"
    (version / "checkpoints" / "probes").mkdir(parents=True)
    (run / "status.json").write_text(json.dumps({"status": status, "attempts": 1}))
    (run / "evaluate.json").write_text("{}")
    (version / "events.out.tfevents.1.host").write_bytes(b"events")
    (version / "fit_status.json").write_text(json.dumps({"state": "finished"}))
    (version / "config.yaml").write_text("model: {}\n")
    (version / "checkpoints" / "last.ckpt").write_bytes(b"x" * 1000)
    (version / "checkpoints" / "probes" / "test-step5.json").write_text("{}")
    return run


def test_save_keeps_done_runs_without_checkpoints_and_restore_brings_them_back(tmp_path):
    sweep = tmp_path / "sweep"
    _run(sweep, "door=zero,seed=0", "done")
    _run(sweep, "door=zero,seed=1", "stopped")
    archive = tmp_path / "archive"
    assert study_archive.save(sweep, archive) == 1
    saved = sorted(str(p.relative_to(archive)) for p in archive.rglob("*") if p.is_file())
    assert saved == [
        "door=zero,seed=0/evaluate.json",
        "door=zero,seed=0/lightning_logs/version_0/checkpoints/probes/test-step5.json",
        "door=zero,seed=0/lightning_logs/version_0/config.yaml",
        "door=zero,seed=0/lightning_logs/version_0/events.out.tfevents.1.host",
        "door=zero,seed=0/lightning_logs/version_0/fit_status.json",
        "door=zero,seed=0/status.json",
    ]
    fresh = tmp_path / "fresh"
    assert study_archive.restore(archive, fresh) == 1
    back = fresh / "runs" / "door=zero,seed=0"
    assert json.loads((back / "status.json").read_text())["status"] == "done"
    assert study_archive.restore(archive, fresh) == 0  # a run already there is left alone
