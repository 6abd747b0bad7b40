"""Which run a checkpoint belongs to, which run ``--ckpt_path last`` means, and evaluations
written into the evaluated run's folder (not a new version_N)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from helpers import run_cli, scalars, tiny_fit_args, write_docs

from datamodules.controls import markov2_chain
from holozero.commands.runs import differences, logger_for, resolve_last, run_dir_of, runs_with_last


def _fake_run(root: Path, version: int, model: dict, data: dict | None = None, config: bool = True) -> Path:
    folder = root / "lightning_logs" / f"version_{version}"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "last.ckpt").write_bytes(b"")
    if config:
        (folder / "config.yaml").write_text(yaml.safe_dump({"model": model, "data": data or {"K": 2}, "trainer": {}}))
    return folder


def test_run_dir_of_a_checkpoint(tmp_path):
    run = _fake_run(tmp_path, 3, {"lr": 1})
    assert run_dir_of(run / "checkpoints" / "last.ckpt") == run.absolute()
    assert run_dir_of(tmp_path / "loose.ckpt") == tmp_path.absolute()  # not in a run: its own folder


def test_logger_writes_into_the_run_and_keeps_the_recorded_spelling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = _fake_run(Path("out"), 2, {"lr": 1})
    args = logger_for(run_dir_of(run / "checkpoints" / "last.ckpt"), "out/lightning_logs/version_2/checkpoints")
    assert args["init_args"] == {"save_dir": "out", "name": "lightning_logs", "version": "version_2"}
    elsewhere = logger_for(run_dir_of(run / "checkpoints" / "last.ckpt"), "/elsewhere/checkpoints")["init_args"]
    assert Path(elsewhere["save_dir"]) == (tmp_path / "out") and elsewhere["version"] == "version_2"


def test_last_is_the_matching_run_not_the_newest(tmp_path):
    mine, other = {"lr": 0.003, "door": "zero"}, {"lr": 0.001, "door": "zero"}
    _fake_run(tmp_path, 0, mine)
    _fake_run(tmp_path, 1, other)  # newer, different
    _fake_run(tmp_path, 2, mine, config=False)  # newest, but nothing to compare
    assert [r.version for r in runs_with_last(tmp_path)] == [2, 1, 0]
    assert resolve_last(tmp_path, {"model": mine, "data": {"K": 2}}).version == 0


def test_last_refuses_listing_the_candidates(tmp_path):
    _fake_run(tmp_path, 0, {"lr": 0.003})
    _fake_run(tmp_path, 1, {"lr": 0.001})
    with pytest.raises(ValueError, match="no run matches") as none:
        resolve_last(tmp_path, {"model": {"lr": 0.002}, "data": {"K": 2}})
    assert "version_0" in str(none.value) and "version_1" in str(none.value)
    assert "model.lr: run 0.001, this command 0.002" in str(none.value)
    _fake_run(tmp_path, 2, {"lr": 0.003})
    with pytest.raises(ValueError, match="several runs match"):
        resolve_last(tmp_path, {"model": {"lr": 0.003}, "data": {"K": 2}})
    with pytest.raises(FileNotFoundError, match="no run with checkpoints/last.ckpt"):
        resolve_last(tmp_path / "empty", {"model": {}, "data": {}})


def test_differences_name_every_changed_key():
    saved = {"model": {"lr": 1, "body": {"dim": 64}}, "data": {"K": 2}, "trainer": {"max_steps": 1}}
    wanted = {"model": {"lr": 1, "body": {"dim": 128}}, "data": {"K": 4}, "trainer": {"max_steps": 9}}
    assert differences(saved, wanted) == [
        "data.K: run 2, this command 4",
        "model.body.dim: run 64, this command 128",
    ]  # the trainer section is not compared


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    chain = markov2_chain(alphabet=16, alpha=0.5, seed=3)
    docs = [chain.sample(4000, np.random.default_rng(i)) for i in range(6)]
    return write_docs(tmp_path_factory.mktemp("corpus"), docs)


@pytest.mark.slow
def test_last_resumes_the_matching_run_and_evaluations_write_into_it(corpus, tmp_path, capsys):
    root = tmp_path / "runs"
    mine = tiny_fit_args(corpus, root, steps=4)
    run_cli(["fit", *mine])  # version_0: this command's run
    run_cli(["fit", *tiny_fit_args(corpus, root, steps=2), "--model.lr", "0.01"])  # version_1: newer, another lr
    logs = root / "lightning_logs"
    assert sorted(p.name for p in logs.iterdir()) == ["version_0", "version_1"]

    run_cli(["fit", *tiny_fit_args(corpus, root, steps=8), "--ckpt_path", "last"])  # resumes version_0
    assert sorted(p.name for p in logs.iterdir()) == ["version_0", "version_1"]
    assert max(step for step, _ in scalars(logs / "version_0")["train/loss"]) >= 6
    assert max(step for step, _ in scalars(logs / "version_1")["train/loss"]) < 2

    capsys.readouterr()
    run_cli(["validate", *mine, "--ckpt_path", "last"])
    run_cli(["test", *mine, "--ckpt_path", str(logs / "version_0" / "checkpoints" / "last.ckpt")])
    out = capsys.readouterr()
    assert sorted(p.name for p in logs.iterdir()) == ["version_0", "version_1"]  # no new version_N
    run0 = logs / "version_0"
    assert (run0 / "validate_config.yaml").exists() and (run0 / "test_config.yaml").exists()
    assert yaml.safe_load((run0 / "config.yaml").read_text())["trainer"]["max_steps"] == 8  # the training config
    tags = scalars(run0)
    assert tags["test/bpb"][-1][0] == tags["val/bpb"][-1][0]  # logged at the checkpoint's step, not at 0
    # the metrics, once each, in one table; not Lightning's table (a column per loader)
    assert out.out.count("val/bpb ") == 1 and out.out.count("test/bpb ") == 1
    assert "DataLoader 0" not in out.out + out.err and "dirpath has changed" not in out.out + out.err

    with pytest.raises(ValueError, match="no run matches") as refused:
        run_cli(["fit", *tiny_fit_args(corpus, root, steps=8), "--model.lr", "0.02", "--ckpt_path", "last"])
    assert "version_0" in str(refused.value) and "version_1" in str(refused.value)


@pytest.mark.slow
def test_ddp_validate_writes_the_same_figures_into_the_run_without_noise(corpus, tmp_path):
    """Two processes score what one does, into the checkpoint's run, with no sync_dist advice."""
    args = tiny_fit_args(corpus, tmp_path / "runs", steps=4)
    run_cli(["fit", *args])
    run0 = tmp_path / "runs" / "lightning_logs" / "version_0"
    ckpt = str(run0 / "checkpoints" / "last.ckpt")
    figures, ddp = {}, ["--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu"]
    for name, extra in (("single", []), ("ddp", ddp)):
        cmd = [sys.executable, "-m", "holozero", "validate", *args, "--ckpt_path", ckpt, *extra]
        done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "sync_dist" not in done.stderr and "dirpath has changed" not in done.stderr, done.stderr[-3000:]
        figures[name] = {k: v[-1][1] for k, v in scalars(run0).items() if k.startswith("val/")}
    assert figures["ddp"] == figures["single"]
    assert sorted(p.name for p in run0.parent.iterdir()) == ["version_0"]
    assert yaml.safe_load((run0 / "validate_config.yaml").read_text())["trainer"]["strategy"] == "ddp"


@pytest.mark.slow
def test_a_ddp_command_ends_its_process_group(corpus, tmp_path):
    """Lightning destroys only an NCCL group (at exit); a gloo group alive at interpreter exit
    aborted a 2-process validate now and then ("terminate called without an active exception",
    exit −6: scripts/ddp_exit_loop.py). The command ends the group itself when it succeeds."""
    ddp = ["--trainer.strategy", "ddp", "--trainer.devices", "1", "--trainer.accelerator", "cpu"]
    run_cli(["fit", *tiny_fit_args(corpus, tmp_path / "runs", steps=2, val_every=2), *ddp])
    assert (tmp_path / "runs" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt").is_file()
    assert not torch.distributed.is_initialized()
