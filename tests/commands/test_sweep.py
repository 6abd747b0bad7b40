"""The smoke sweep end to end from a non-editable install, run from a temporary directory with
the spec copied elsewhere; the report's numbers against the runs' own event files; resuming a
killed sweep; a failing run recorded, never averaged; cluster emission; spec paths."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from holozero.commands.events import read_scalars
from holozero.commands.report import main as report_main
from holozero.commands.sweep import expand, fit_args, load_spec, run_id
from holozero.commands.sweep import main as sweep_main

ROOT = Path(__file__).resolve().parents[2]
SWEEPS = ROOT / "configs" / "sweeps"
PACKAGES = ("holozero", "datamodules", "models", "callbacks")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The project pip-installed (not editable) into a folder of its own; the environment that
    makes ``python -m holozero`` run that copy, and only it."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"  # a copy, so the build leaves nothing in the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in PACKAGES:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    site = tmp / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(src)]
    done = subprocess.run(pip, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("HOLOZERO_DEBUG", None)
    where = subprocess.run(
        [sys.executable, "-c", "import holozero, datamodules; print(holozero.__file__, datamodules.__file__)"],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(w).is_relative_to(site) for w in where), where  # not the checkout
    return env


def _sweep(installed: dict, spec: Path, out: Path, cwd: Path) -> subprocess.CompletedProcess:
    # two runs at once, as on a 2-core machine: the tiny runs are mostly process start-up
    cmd = [sys.executable, "-m", "holozero", "sweep", str(spec), "--out", str(out), "--jobs", "2"]
    return subprocess.run(cmd, cwd=cwd, env=installed, capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def smoke(installed, tmp_path_factory):
    """configs/sweeps/smoke.yaml and its base, copied away from the checkout, run from an
    unrelated directory by the installed package."""
    tmp = tmp_path_factory.mktemp("sweep")
    specs, cwd = tmp / "specs", tmp / "elsewhere"
    specs.mkdir(), cwd.mkdir()
    for name in ("smoke.yaml", "tiny_text.yaml"):
        shutil.copy(SWEEPS / name, specs / name)
    out = tmp / "smoke"
    done = _sweep(installed, specs / "smoke.yaml", out, cwd)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report_main([str(out)])
    return out, specs, cwd


@pytest.mark.slow
def test_the_sweep_ran_the_installed_package_and_no_checkout_file(smoke):
    out, specs, _ = smoke
    for command in (out / "runs").glob("*/command.txt"):
        text = command.read_text()
        assert str(ROOT) not in text, text  # no config, door or path of the checkout
        assert f"cd {specs}" in text and str(specs / "tiny_text.yaml") in text  # relative to the spec file


@pytest.mark.slow
def test_report_numbers_come_from_the_event_files(smoke):
    out = smoke[0]
    rows = {r["arm"]: r for r in json.loads((out / "report" / "summary.json").read_text())}

    def final(arm: str, seed: int) -> float:
        return read_scalars(out / "runs" / f"{arm},seed={seed}" / "lightning_logs" / "version_0")["val/bpb"][-1][1]

    for arm in ("door=zero", "door=hsl_proj"):
        finals = [final(arm, s) for s in (0, 1)]
        assert rows[arm]["val/bpb"]["mean"] == pytest.approx(np.mean(finals))
        assert rows[arm]["val/bpb"]["std"] == pytest.approx(np.std(finals, ddof=1))
        assert rows[arm]["done"] == 2
    paired = rows["door=hsl_proj"]["val/bpb"]["paired"]
    diffs = [final("door=hsl_proj", s) - final("door=zero", s) for s in (0, 1)]
    assert paired["diff"] == pytest.approx(np.mean(diffs))
    assert rows["door=hsl_proj"]["learned input params"] > 0 == rows["door=zero"]["learned input params"]
    md = (out / "report" / "report.md").read_text()
    assert "| door=zero | 2 | 2 |" in md and (out / "report" / "report.csv").exists()
    assert (out / "report" / "bpb_vs_step.png").stat().st_size > 0
    for run in ("door=zero,seed=0", "door=hsl_proj,seed=1"):  # each run's test went into its own folder
        logs = out / "runs" / run / "lightning_logs"
        assert [p.name for p in logs.iterdir()] == ["version_0"]
        assert "test/bpb" in read_scalars(logs / "version_0")
        assert (logs / "version_0" / "test_config.yaml").exists()


@pytest.mark.slow
def test_rerunning_finishes_only_what_was_missing(smoke, installed):
    out, specs, cwd = smoke
    victim = out / "runs" / "door=hsl_proj,seed=1"
    shutil.rmtree(victim)  # as if the sweep had been killed before this run
    kept = out / "runs" / "door=zero,seed=0" / "attempt1.log"
    before = kept.stat().st_mtime_ns
    done = _sweep(installed, specs / "smoke.yaml", out, cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((victim / "status.json").read_text())["status"] == "done"
    assert kept.stat().st_mtime_ns == before  # finished runs were skipped


@pytest.mark.slow
def test_failing_run_is_retried_once_then_recorded(tmp_path):
    shutil.copy(SWEEPS / "tiny_text.yaml", tmp_path / "tiny_text.yaml")
    spec = yaml.safe_load((SWEEPS / "smoke.yaml").read_text())
    spec["grid"] = {"K": [2, 3], "seed": [0]}  # K=3 does not fit the tiny body (3·27 > dim 64): that run fails
    spec["args"] = ["--trainer.max_steps", "4", "--trainer.val_check_interval", "2"]
    spec["test"] = False
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SystemExit):
        sweep_main([str(path), "--out", str(tmp_path / "out"), "--jobs", "2"])
    report_main([str(tmp_path / "out")])
    bad = tmp_path / "out" / "runs" / "K=3,seed=0"
    assert json.loads((bad / "status.json").read_text()) | {"run": None} == {
        "status": "failed",
        "attempts": 2,
        "run": None,
    }
    log = (bad / "attempt2.log").read_text()
    assert "holozero fit: error:" in log and "K·feat_dim = 3·27" in log, log
    assert "Traceback" not in (bad / "attempt1.log").read_text()  # one message, not a traceback
    md = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "| K=3,seed=0 | failed |" in md
    rows = {r["arm"]: r for r in json.loads((tmp_path / "out" / "report" / "summary.json").read_text())}
    assert rows["K=3"]["done"] == 0 and "val/bpb" not in rows["K=3"]


def test_spec_paths_are_relative_to_the_spec_file(tmp_path, monkeypatch):
    (tmp_path / "specs" / "more").mkdir(parents=True)
    shutil.copy(SWEEPS / "tiny_text.yaml", tmp_path / "specs" / "base.yaml")
    (tmp_path / "specs" / "more" / "extra.yaml").write_text("trainer:\n  max_steps: 3\n")
    spec = {"base": ["base.yaml"], "grid": {"door": ["zero_no_phase"], "configs": [["more/extra.yaml"]]}}
    (tmp_path / "specs" / "spec.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.chdir(tmp_path)  # anywhere but the spec's folder
    loaded = load_spec("specs/spec.yaml")
    (run,) = expand(loaded)
    args = fit_args(loaded, run, tmp_path / "out")
    assert args[args.index("--config") + 1] == str(tmp_path / "specs" / "base.yaml")
    assert str(tmp_path / "specs" / "more" / "extra.yaml") in args
    door = json.loads(args[args.index("--model.door") + 1])
    assert door["class_path"] == "holozero.doors.ZeroGroupsDoor" and "phase" not in door["init_args"]["groups"]
    assert loaded["folder"] == str(tmp_path / "specs")


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"grid": {"colour": [1]}}, "unknown grid keys"),
        ({"grid": {"door": ["zero", "no_such_door"]}}, "unknown door 'no_such_door'"),
        ({"base": ["missing.yaml"], "grid": {"seed": [0]}}, "no such file missing.yaml"),
        ({"base": "tiny_text.yaml", "grid": {"seed": [0]}}, "base must be a list"),
    ],
)
def test_a_bad_spec_is_named(tmp_path, spec, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises((ValueError, FileNotFoundError), match=message) as caught:
        load_spec(path)
    assert str(path) in str(caught.value)


def test_grid_exclusions_ids_and_emission(tmp_path):
    spec = {
        "grid": {"door": ["zero", "onehot"], "K": [1, 8], "seed": [0, 1]},
        "exclude": [{"door": "onehot", "K": 8}],
        "base": [str(ROOT / "configs" / "quickstart.yaml")],
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
        assert text.count("holozero fit") == 6 and text.count("holozero test") == 6
        assert f"cd {tmp_path}" in text  # runs start in the spec's folder
        assert "configs/doors" not in text and "holozero.doors.OneHotDoor" in text
    assert "#SBATCH --array=0-5" in (tmp_path / "out" / "sweep.slurm").read_text()


def test_several_grids_are_one_union_each_run_once(tmp_path):
    """A boundary map is sub-grids sharing runs: the zero door at K=8 of the K grid and of the
    door grid is one run. Every grid must name the same axes."""
    spec = {
        "grids": [
            {"door": ["zero", "byte_embed"], "K": [8], "seed": [0, 1]},
            {"door": ["zero"], "K": [4, 8], "seed": [0, 1]},
            {"door": ["per_byte"], "K": [1], "seed": [0]},
        ],
        "base": [str(ROOT / "configs" / "quickstart.yaml")],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    runs = [run_id(r) for r in expand(load_spec(path))]
    assert runs == [
        "door=zero,K=8,seed=0", "door=zero,K=8,seed=1", "door=byte_embed,K=8,seed=0", "door=byte_embed,K=8,seed=1",
        "door=zero,K=4,seed=0", "door=zero,K=4,seed=1", "door=per_byte,K=1,seed=0",
    ]  # fmt: skip
    spec["grids"][1] = {"door": ["zero"], "seed": [0]}
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="every grid must name the same axes"):
        load_spec(path)
    spec["grids"][1] = {"door": ["per_byte"], "K": [8], "seed": [0]}
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="per_byte baseline runs at K=1 only"):
        load_spec(path)
