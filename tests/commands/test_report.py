"""The report pairs every arm with the reference at the same value of every other axis."""

from __future__ import annotations

import pytest

from holozero.commands.report import reference_of, summarize


def _record(door: str, budget: float, seed: int, bpb: float) -> dict:
    run = {"door": door, "budget": {"flops": budget}, "seed": seed}
    return {"run": run, "status": "done", "final": {"val/bpb": bpb}, "curves": {}}


def test_two_budgets_pair_each_arm_with_the_reference_at_its_own_budget():
    """Equal arms at each budget (the reference and the other door have the same bpb per seed,
    and the budgets differ by 1 bit): Δ = 0 at both budgets. Pairing across budgets — the
    first reference arm found — would give Δ = −1.0 with p = 0 at the larger budget."""
    spec = {"reference": {"door": "zero"}}
    records = []
    for seed, noise in enumerate((0.01, -0.02, 0.03)):
        for budget, level in ((1e12, 3.0), (4e12, 2.0)):
            records += [_record("zero", budget, seed, level + noise), _record("hsl_proj", budget, seed, level + noise)]
    rows = {r["arm"]: r for r in summarize(spec, records)}
    for budget in ("flops1e+12", "flops4e+12"):
        pair = rows[f"door=hsl_proj,budget={budget}"]["val/bpb"]["paired"]
        assert pair["diff"] == pytest.approx(0.0) and pair["p"] == 1.0 and pair["n"] == 3
        assert pair["reference"] == f"door=zero,budget={budget}"
    assert "paired" not in rows["door=zero,budget=flops4e+12"]["val/bpb"]


def test_the_reference_names_only_its_own_axes():
    arm = {"door": "byte_embed", "K": 4, "budget": {"flops": 2.0}}
    assert reference_of(arm, {"door": "zero", "K": 8}) == "door=zero,K=8,budget=flops2"
    assert reference_of(arm, {}) is None
