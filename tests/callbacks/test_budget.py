"""BudgetStop: the budget that stops a run also ends its LR schedule there."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from helpers import run_cli

from callbacks.budget import BudgetStop
from holozero.commands.events import read_scalars

ROOT = Path(__file__).resolve().parents[2]


def test_budget_stops_at_the_named_budget():
    b = BudgetStop(flops=1000.0, train_bytes=10_000)
    assert b.horizon(flops_per_batch=300, bytes_per_batch=100) == 3  # FLOPs first: 1000/300 = 3.33, nearest 3
    assert b.horizon(flops_per_batch=250, bytes_per_batch=100) == 4  # exactly 4
    assert b.horizon(flops_per_batch=1, bytes_per_batch=4000) == 3  # bytes first: 2.5, halves up
    assert b.horizon(flops_per_batch=5000, bytes_per_batch=1) == 1  # at least one step
    assert BudgetStop(seconds=5).horizon(10, 10) is None
    with pytest.raises(ValueError, match="must be positive"):
        BudgetStop(flops=0)
    assert math.isfinite(b.spent["flops"])


def test_validation_every_flops_is_the_nearest_whole_step():
    from types import SimpleNamespace

    one = SimpleNamespace(world_size=1)
    assert BudgetStop(val_every_flops=350).validation_interval(100, one) == 4  # 3.5 steps: halves up
    assert BudgetStop(val_every_flops=340).validation_interval(100, one) == 3
    assert BudgetStop(val_every_flops=10).validation_interval(100, one) == 1  # at least every step
    assert BudgetStop(val_every_flops=400).validation_interval(100, SimpleNamespace(world_size=2)) == 2
    with pytest.raises(ValueError, match="must be positive"):
        BudgetStop(val_every_flops=-1)


@pytest.mark.slow
def test_validation_at_flop_points_in_a_real_run(tmp_path):
    every = 2.5e8
    run_cli(
        [
            "fit", "--config", str(ROOT / "configs" / "sweeps" / "tiny_text.yaml"),
            "--trainer.default_root_dir", str(tmp_path), "--trainer.max_steps", "20",
            "--budget.val_every_flops", str(every), "--trainer.enable_progress_bar", "false",
            "--data.init_args.cache_dir", str(tmp_path / "cache"),
        ]
    )  # fmt: skip
    tags = read_scalars(next((tmp_path / "lightning_logs").iterdir()))
    flops = tags["model/flops_per_batch"][0][1]
    interval = int(every / flops + 0.5)
    assert 1 < interval < 20
    expected = [*range(interval, 20 + 1, interval)]
    assert [s for s, _ in tags["val/bpb"]] == expected + ([20] if expected[-1] != 20 else [])


@pytest.mark.slow
def test_budget_ends_a_real_run_and_its_schedule(tmp_path):
    run_cli(
        [
            "fit",
            "--config",
            str(ROOT / "configs" / "sweeps" / "tiny_text.yaml"),
            "--trainer.default_root_dir",
            str(tmp_path),
            "--budget.train_bytes",
            "2560",
            "--trainer.enable_progress_bar",
            "false",
            "--data.init_args.cache_dir",
            str(tmp_path / "cache"),
            "--trainer.log_every_n_steps",
            "1",
        ]
    )
    tags = read_scalars(next((tmp_path / "lightning_logs").iterdir()))
    assert tags["budget/train_bytes"][-1] == (9, 2560.0)  # 10 batches of 8 windows × 32 bytes, then stop
    assert tags["train/loss"][-1][0] == 9
    # the schedule ends at the budget (10 steps), not at max_steps=30: its last step runs at the floor
    assert tags["train/lr"][-1][1] == pytest.approx(3e-3 * 0.1, rel=1e-5)
    assert tags["train/lr"][2][1] == pytest.approx(3e-3 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 1 / 8))))


@pytest.mark.slow
def test_a_run_resumed_at_its_budget_trains_no_step_past_it(tmp_path):
    # a sweep resumes a run whose fit finished but whose scoring was stopped: the fit must not
    # train one more step (issue #28: a 153-step budget run resumed from step 153 ended at 154)
    import json

    from callbacks.run_status import checkpoint_step

    args = [
        "fit", "--config", str(ROOT / "configs" / "sweeps" / "tiny_text.yaml"),
        "--trainer.default_root_dir", str(tmp_path), "--budget.train_bytes", "2560",
        "--trainer.enable_progress_bar", "false", "--data.init_args.cache_dir", str(tmp_path / "cache"),
    ]  # fmt: skip
    run_cli(args)
    run_cli([*args, "--ckpt_path", "last"])
    version = tmp_path / "lightning_logs" / "version_0"
    status = json.loads((version / "fit_status.json").read_text())
    assert (status["state"], status["step"], status["target_step"]) == ("finished", 10, 10)
    assert checkpoint_step(version / "checkpoints" / "last.ckpt") == 10
