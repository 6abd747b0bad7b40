"""``holozero report`` never counts a run whose fit did not finish, whatever the sweep recorded."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from torch.utils.tensorboard import SummaryWriter

from holozero.commands import report
from holozero.commands.sweep import run_id


def _sweep(tmp_path: Path, seeds: list[int]) -> Path:
    """A sweep folder whose spec plans the zero door at ``seeds``."""
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "spec.yaml").write_text(yaml.safe_dump({"grid": {"door": ["zero"], "seed": seeds}}))
    return out


def _run(out: Path, seed: int, fit: dict | None) -> None:
    events = out / "runs" / run_id({"door": "zero", "seed": seed}) / "lightning_logs" / "version_0"
    events.mkdir(parents=True)
    (events.parent.parent / "status.json").write_text(json.dumps({"status": "done"}))
    if fit is not None:
        (events / "fit_status.json").write_text(json.dumps(fit))
    writer = SummaryWriter(str(events))
    writer.add_scalar("val/bpb", 2.0 + seed, 6)
    writer.close()


def _write_probes(out: Path, step: int, retrieval: dict) -> None:
    """The test's probe file of seed 0 at ``step``, holding ``retrieval``."""
    probes = out / "runs" / "door=zero,seed=0" / "lightning_logs" / "version_0" / "checkpoints" / "probes"
    probes.mkdir(parents=True, exist_ok=True)
    (probes / f"test-step{step}.json").write_text(json.dumps({"probes": {"retrieval": retrieval}}))


def test_a_run_stopped_short_past_its_budget_or_with_no_status_is_left_out_and_named(tmp_path):
    out = _sweep(tmp_path, [0, 1, 2, 3])
    _run(out, 0, {"state": "finished", "step": 12, "target_step": 12})
    _run(out, 1, {"state": "stopped", "step": 6, "target_step": 12})
    _run(out, 2, None)
    _run(out, 3, {"state": "finished", "step": 13, "target_step": 12})  # resumed one step past its budget
    report.main([str(out)])
    (row,) = json.loads((out / "report" / "summary.json").read_text())
    assert row["done"] == 1 and row["val/bpb"]["mean"] == 2.0  # seed 0 alone
    md = (out / "report" / "report.md").read_text()
    assert "| door=zero,seed=1 | fit stopped at step 6 of 12 |" in md
    assert "| door=zero,seed=2 | fit not finished |" in md
    assert "| door=zero,seed=3 | fit finished at step 13, past its target step 12 |" in md
    assert "no discount for the causal mask" in md  # the FLOP convention, stated


def test_the_probe_table_puts_retrieval_beside_its_media_blanked_null(tmp_path):
    out = _sweep(tmp_path, [0])
    _run(out, 0, {"state": "finished", "step": 12, "target_step": 12})
    _write_probes(out, 12, {"status": "ok", "R@1": 0.5, "R@5": 1.0, "MRR": 0.75, "null_R@1": 0.125})
    report.main([str(out)])
    md = (out / "report" / "report.md").read_text()
    assert "| arm | retrieval | retrieval null |" in md
    assert "| door=zero | +0.5000 (n=1) | +0.1250 (n=1) |" in md


def test_a_run_scored_at_another_step_than_its_fit_finished_at_is_left_out_and_named(tmp_path):
    # a stale last.ckpt (Lightning 2.6 kept it at the best step) was tested and evaluated at step 4
    # of a fit that finished at 6: those are another model's figures, never averaged
    out = _sweep(tmp_path, [0, 1])
    for seed, scored in ((0, 6), (1, 4)):
        _run(out, seed, {"state": "finished", "step": 6, "target_step": 6})
        root = out / "runs" / run_id({"door": "zero", "seed": seed})
        writer = SummaryWriter(str(root / "lightning_logs" / "version_0"))
        writer.add_scalar("test/bpb", 5.0 + seed, scored)
        writer.close()
        (root / "evaluate.json").write_text(json.dumps({"step": scored, "segments": {}, "floors": {}}))
    report.main([str(out)])
    (row,) = json.loads((out / "report" / "summary.json").read_text())
    assert row["done"] == 1 and row["test/bpb"]["mean"] == 5.0  # seed 0 alone
    md = (out / "report" / "report.md").read_text()
    assert "| door=zero,seed=1 | evaluate at step 4, test at step 4, fit finished at step 6 |" in md


def test_the_probes_reported_are_the_models_the_fit_finished_with(tmp_path):
    # an older test of a stale checkpoint left test-step999.json beside the test at the fit's
    # step 1007; by name, "999" sorts after "1007", so the newest-looking file was the wrong model
    out = _sweep(tmp_path, [0])
    _run(out, 0, {"state": "finished", "step": 1007, "target_step": 1007})
    for step, r1 in ((999, 0.25), (1007, 0.5)):
        _write_probes(out, step, {"status": "ok", "R@1": r1, "R@5": 1.0, "MRR": 0.75, "null_R@1": 0.125})
    report.main([str(out)])
    assert "| door=zero | +0.5000 (n=1) | +0.1250 (n=1) |" in (out / "report" / "report.md").read_text()
