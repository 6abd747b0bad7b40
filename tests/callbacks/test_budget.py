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
