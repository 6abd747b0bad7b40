"""Every run of every shipped sweep spec follows the same schedule shape: warmup is the config's
stated fraction of the run's own horizon (to the nearest step) and the learning rate reaches
its floor on the horizon's last step — whatever the arm's cost per step. Each arm is built by
the CLI from the run's own fit arguments, its horizon by BudgetStop from the FLOPs its network
measures on the data module's window layouts, its schedule by ByteLM.configure_optimizers.
Runs of one arm differ only in their seed, which changes neither FLOPs nor schedule."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from callbacks import BudgetStop
from datamodules.base import WindowDataModule
from holozero.commands.cli import HoloCLI
from holozero.commands.sweep import arm_of, expand, fit_args, load_spec
from models import ByteLM

pytestmark = pytest.mark.slow  # builds the data of every spec and measures FLOPs of every arm

SWEEPS = Path(__file__).resolve().parents[2] / "configs" / "sweeps"
SPECS = sorted(p.name for p in SWEEPS.glob("*.yaml") if {"grid", "grids"} & set(yaml.safe_load(p.read_text())))


def _arms(spec: dict) -> list[dict]:
    arms = {}
    for run in expand(spec):
        arms.setdefault(json.dumps(arm_of(run), sort_keys=True), run)
    return list(arms.values())


@pytest.mark.parametrize("name", SPECS)
def test_every_run_warms_up_the_stated_fraction_and_ends_at_the_floor(name, tmp_path):
    spec = load_spec(SWEEPS / name)
    shapes_of: dict[str, list] = {}  # the data's window layouts, built once per data config
    for run in _arms(spec):
        args = fit_args(spec, run, tmp_path / "run")
        cli = HoloCLI(ByteLM, WindowDataModule, subclass_mode_data=True, args=args, run=False)
        lm, max_steps = cli.model, cli.trainer.max_steps
        key = json.dumps(cli.config.data.as_dict(), sort_keys=True, default=str)
        if key not in shapes_of:
            cli.datamodule.setup("fit")
            shapes_of[key] = cli.datamodule.batch_shapes
        budget = next(c for c in cli.trainer.callbacks if isinstance(c, BudgetStop))
        budget.setup(SimpleNamespace(datamodule=SimpleNamespace(batch_shapes=shapes_of[key]), world_size=1), lm, "fit")
        horizon = min(max_steps, lm.schedule_horizon or max_steps)
        if budget.flops is not None:  # the step count whose FLOPs are nearest the budget
            assert abs(horizon * lm.flops_per_batch - budget.flops) <= lm.flops_per_batch / 2 or horizon == 1, run
        lm._trainer = SimpleNamespace(estimated_stepping_batches=max_steps, callbacks=[])  # infinite data
        factor = lm.configure_optimizers()["lr_scheduler"]["scheduler"].lr_lambdas[0]
        lrs = [factor(i) for i in range(horizon)]
        fraction, floor = lm.hparams.warmup_fraction, lm.hparams.min_lr_ratio
        warmup = lrs.index(max(lrs)) + 1  # steps up to and including the peak
        assert warmup == max(1, int(fraction * horizon + 0.5)), (run, warmup, horizon)
        assert abs(warmup - fraction * horizon) <= 0.5 or warmup == 1, run
        assert math.isclose(lrs[-1], floor), (run, lrs[-1], horizon)
        assert all(a >= b for a, b in zip(lrs[warmup - 1 :], lrs[warmup:], strict=False)), run
