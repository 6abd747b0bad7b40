"""The optimizer and schedule of every arm: one weight-decay rule, one schedule shape."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch.nn as nn

from holozero.doors import PRESETS, build_door
from models import ByteLM, Decoder
from models.byte_lm import lr_factor, warmup_steps

DIM = 64


def _lm(door: str = "zero", per_byte: bool = False, **kw) -> ByteLM:
    K = 1 if door == "onehot" else 2
    dim = 264 if door == "onehot" else DIM  # one-hot needs a slot of 259 channels
    return ByteLM(build_door(door, K=K, dim=dim), Decoder(dim=dim, n_layers=1, n_heads=4), per_byte=per_byte, **kw)


def _attach(lm: ByteLM, max_steps: int = 1000) -> ByteLM:
    """The two things configure_optimizers reads of a trainer (infinite data: its max_steps)."""
    lm._trainer = SimpleNamespace(estimated_stepping_batches=max_steps, callbacks=[])
    return lm


@pytest.mark.parametrize("door", [*sorted(PRESETS), "per_byte"])
def test_weight_decay_is_one_rule_for_every_door_the_body_matrices_only(door):
    """hsl_proj's Linear used to be decayed while every embedding table was not."""
    lm = _attach(_lm("byte_embed", per_byte=True) if door == "per_byte" else _lm(door))
    decay_group, rest_group = lm.configure_optimizers()["optimizer"].param_groups
    decayed = {id(p) for p in decay_group["params"]}
    body_matrices = {id(m.weight) for m in lm.net.body.modules() if isinstance(m, nn.Linear)}
    assert decayed == body_matrices
    assert not decayed & {id(p) for p in lm.net.door.parameters()}
    assert decay_group["weight_decay"] == 0.1 and rest_group["weight_decay"] == 0.0
    trainable = [p for p in lm.parameters() if p.requires_grad]
    assert len(decay_group["params"]) + len(rest_group["params"]) == len(trainable)


def test_the_learning_rate_factor_by_hand():
    """Warmup 10 of 100 steps, floor 0.1: step i of the warmup runs at (i+1)/10; the cosine
    is halfway (0.55) when (i+1-10)/90 = 1/2, i.e. at step 54, and at the floor at step 99."""
    assert [lr_factor(i, 10, 100, 0.1) for i in (0, 4, 9)] == [0.1, 0.5, 1.0]
    assert math.isclose(lr_factor(54, 10, 100, 0.1), 0.55)
    assert math.isclose(lr_factor(99, 10, 100, 0.1), 0.1)
    assert math.isclose(lr_factor(500, 10, 100, 0.1), 0.1)  # past the horizon: the floor
    assert lr_factor(10, 10, 100, 0.1) < 1.0  # the decay starts right after the peak


@pytest.mark.parametrize(
    ("fraction", "horizon", "expected"), [(0.1, 100, 10), (0.16, 10, 2), (0.05, 7, 1), (0.0, 50, 1)]
)
def test_warmup_is_the_nearest_whole_step_to_its_fraction_of_the_horizon(fraction, horizon, expected):
    assert warmup_steps(fraction, horizon) == expected


@pytest.mark.parametrize("horizon", [10, 63, 252])
def test_every_horizon_gets_the_same_shape(horizon):
    """The same warmup_fraction gives every horizon a warmup of that share and ends at the floor
    on its last step (a count of warmup steps gave a 10-step run 100% warmup and no decay)."""
    lm = _attach(_lm(lr=1.0, warmup_fraction=0.16, min_lr_ratio=0.1), max_steps=100000)
    lm.schedule_horizon = horizon  # what a FLOPs budget sets (callbacks.BudgetStop)
    scheduler = lm.configure_optimizers()["lr_scheduler"]["scheduler"]
    lrs = [scheduler.lr_lambdas[0](i) for i in range(horizon)]
    peak = lrs.index(max(lrs))
    assert peak + 1 == int(0.16 * horizon + 0.5)
    assert all(a < b for a, b in zip(lrs[: peak + 1], lrs[1 : peak + 1], strict=False))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1 :], strict=False))
    assert math.isclose(lrs[-1], 0.1)


def test_a_bad_schedule_argument_is_refused():
    with pytest.raises(ValueError, match="warmup_fraction"):
        _lm(warmup_fraction=1.5)
    with pytest.raises(ValueError, match="min_lr_ratio"):
        _lm(min_lr_ratio=-0.1)
