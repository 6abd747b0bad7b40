"""The smoke sweep end to end; the report's numbers against the runs' own event files;
resuming a killed sweep; a failing run recorded, never averaged; cluster emission; budgets."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from holozero.commands.events import read_scalars
from holozero.commands.report import main as report_main
from holozero.commands.sweep import expand, load_spec, run_id
from holozero.commands.sweep import main as sweep_main

pytestmark = pytest.mark.slow  # end-to-end runs and subprocesses

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "smoke"
    cwd = os.getcwd()
    os.chdir(ROOT)  # spec paths are relative to the repository, as for a user
    try:
        sweep_main(["configs/sweeps/smoke.yaml", "--out", str(out)])
        report_main([str(out)])
    finally:
        os.chdir(cwd)
    return out


def test_report_numbers_come_from_the_event_files(smoke):
    rows = {r["arm"]: r for r in json.loads((smoke / "report" / "summary.json").read_text())}
    for arm in ("door=zero", "door=hsl_proj"):
        finals = [
            read_scalars(smoke / "runs" / f"{arm},seed={s}" / "lightning_logs" / "version_0")["val/bpb"][-1][1]
            for s in (0, 1)
        ]
        assert rows[arm]["val/bpb"]["mean"] == pytest.approx(np.mean(finals))
        assert rows[arm]["val/bpb"]["std"] == pytest.approx(np.std(finals, ddof=1))
        assert rows[arm]["done"] == 2
    paired = rows["door=hsl_proj"]["val/bpb"]["paired"]
    zero = [
        read_scalars(smoke / "runs" / f"door=zero,seed={s}" / "lightning_logs" / "version_0")["val/bpb"][-1][1]
        for s in (0, 1)
    ]
    proj = [
        read_scalars(smoke / "runs" / f"door=hsl_proj,seed={s}" / "lightning_logs" / "version_0")["val/bpb"][-1][1]
        for s in (0, 1)
    ]
    assert paired["diff"] == pytest.approx(np.mean(np.array(proj) - np.array(zero)))
    assert rows["door=hsl_proj"]["learned input params"] > 0 == rows["door=zero"]["learned input params"]
    md = (smoke / "report" / "report.md").read_text()
    assert "| door=zero | 2 | 2 |" in md and (smoke / "report" / "report.csv").exists()
    assert (smoke / "report" / "bpb_vs_step.png").stat().st_size > 0
    for run in ("door=zero,seed=0", "door=hsl_proj,seed=1"):  # each run also went through `holozero test`
        assert "test/bpb" in read_scalars(next((smoke / "runs" / run / "test" / "lightning_logs").iterdir()))


def test_rerunning_finishes_only_what_was_missing(smoke):
    victim = smoke / "runs" / "door=hsl_proj,seed=1"
    shutil.rmtree(victim)  # as if the sweep had been killed before this run
    kept = smoke / "runs" / "door=zero,seed=0" / "attempt1.log"
    before = kept.stat().st_mtime_ns
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        sweep_main(["configs/sweeps/smoke.yaml", "--out", str(smoke)])
    finally:
        os.chdir(cwd)
    assert json.loads((victim / "status.json").read_text())["status"] == "done"
    assert kept.stat().st_mtime_ns == before  # finished runs were skipped


def test_failing_run_is_retried_once_then_recorded(tmp_path):
    spec = yaml.safe_load((ROOT / "configs" / "sweeps" / "smoke.yaml").read_text())
    spec["grid"] = {"door": ["zero", "no_such_door"], "seed": [0]}
    spec["args"] = ["--trainer.max_steps", "4", "--trainer.val_check_interval", "2"]
    spec["test"] = False
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with pytest.raises(SystemExit):
            sweep_main([str(path), "--out", str(tmp_path / "out")])
        report_main([str(tmp_path / "out")])
    finally:
        os.chdir(cwd)
    bad = tmp_path / "out" / "runs" / "door=no_such_door,seed=0"
    assert json.loads((bad / "status.json").read_text()) | {"run": None} == {
        "status": "failed",
        "attempts": 2,
        "run": None,
    }
    assert (bad / "attempt1.log").exists() and (bad / "attempt2.log").exists()
    md = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "| door=no_such_door,seed=0 | failed |" in md
    rows = {r["arm"]: r for r in json.loads((tmp_path / "out" / "report" / "summary.json").read_text())}
    assert rows["door=no_such_door"]["done"] == 0 and "val/bpb" not in rows["door=no_such_door"]


def test_grid_exclusions_ids_and_emission(tmp_path):
    spec = {
        "grid": {"door": ["zero", "onehot"], "K": [1, 8], "seed": [0, 1]},
        "exclude": [{"door": "onehot", "K": 8}],
        "base": ["configs/quickstart.yaml"],
        "budget": None,
    }
    runs = expand(spec)
    assert len(runs) == 6 and all(not (r["door"] == "onehot" and r["K"] == 8) for r in runs)
    assert (
        run_id({"door": "zero", "K": 8, "budget": {"flops": 2e12}, "seed": 1})
        == "door=zero,K=8,budget=flops2e+12,seed=1"
    )
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    for kind, name in (("commands", "commands.sh"), ("slurm", "sweep.slurm")):
        sweep_main([str(path), "--out", str(tmp_path / "out"), "--emit", kind])
        text = (tmp_path / "out" / name).read_text()
        assert text.count("holozero fit") == 6
    assert "#SBATCH --array=0-5" in (tmp_path / "out" / "sweep.slurm").read_text()
    with pytest.raises(ValueError, match="unknown grid keys"):
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump({"grid": {"colour": [1]}}))
        load_spec(bad)
