"""Every arm's total and learned input parameters in the report tables (``holozero report`` and
scripts/boundary_tables.py), and how the floors were counted stated beside the floors table,
read from a sweep folder written here: two arms, two seeds, logged facts and evaluate.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import yaml
from torch.utils.tensorboard import SummaryWriter

from holozero.commands import report
from holozero.commands.sweep import run_id
from holozero.floors import CONVENTION

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "boundary_tables.py"
BUDGET = {"flops": 1.5e12}
# (learned input, body) per arm; the per-byte arm's run is an old one that logged no total
ARMS = {"zero": (8, 0, 3_300_000), "per_byte": (1, 116_032, 3_300_000)}


def _sweep(out: Path) -> None:
    grids = [
        {"door": [d], "K": [K], "budget": [BUDGET], "configs": [[]], "seed": [0, 1]} for d, (K, *_) in ARMS.items()
    ]
    out.mkdir()
    (out / "spec.yaml").write_text(yaml.safe_dump({"grids": grids}))
    for door, (K, door_params, body) in ARMS.items():
        for seed in (0, 1):
            root = out / "runs" / run_id({"door": door, "K": K, "budget": BUDGET, "configs": [], "seed": seed})
            events = root / "lightning_logs" / "version_0"
            events.mkdir(parents=True)
            (root / "status.json").write_text(json.dumps({"status": "done"}))
            (events / "fit_status.json").write_text(json.dumps({"state": "finished", "step": 10, "target_step": 10}))
            writer = SummaryWriter(str(events))
            writer.add_scalar("model/learned_input_params", door_params, 0)
            writer.add_scalar("model/body_params", body, 0)
            if door == "zero":  # the per-byte run predates model/total_params: the report adds it up
                writer.add_scalar("model/total_params", door_params + body, 0)
            writer.add_scalar("val/bpb", 2.0 + seed, 10)
            writer.close()
            evaluation = {"step": 10, "segments": {"text": {"bpb": 2.5}}, "floors": {"text": {"zlib": 2.6, "xz": 2.2}}}
            if door == "zero":  # an evaluate.json of the current code states its convention
                evaluation["floor_convention"] = CONVENTION
            (root / "evaluate.json").write_text(json.dumps(evaluation))


def test_every_table_shows_total_and_learned_input_parameters(tmp_path):
    out = tmp_path / "sweep"
    _sweep(out)
    report.main([str(out)])
    md = (out / "report" / "report.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| arm |"))
    assert "| total params | learned input params |" in header
    rows = {line.split(" | ")[0]: line for line in md.splitlines() if line.startswith("| door=")}
    assert "| 3,300,000 | 0 |" in rows["| door=zero,K=8,budget=flops1.5e+12,configs="]
    assert "| 3,416,032 | 116,032 |" in rows["| door=per_byte,K=1,budget=flops1.5e+12,configs="]
    # the floors table says how its floors were counted, an old evaluate.json's included
    assert f"Floors: {CONVENTION}." in md and f"Floors: {report.CONTAINER_FLOORS}." in md

    spec = importlib.util.spec_from_file_location("boundary_tables", SCRIPT)
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    runs = tables.Runs(out)
    arms = [("zero", "zero", 8, BUDGET, ()), ("per_byte", "per_byte", 1, BUDGET, ())]
    text = tables.table(runs, "budget B", arms, tables.BPB)
    assert "| arm | n | steps | total params | learned input params | text bpb |" in text
    assert "| zero | 2 | 10 | 3,300,000 | 0 | 2.500 ± 0.000 |" in text
    assert "| per_byte | 2 | 10 | 3,416,032 | 116,032 |" in text
    assert "| per_byte | 2 | 3,416,032 | 116,032 |" in tables.probes_table(runs, BUDGET)
    floors = tables.floors_table(runs)
    assert "| text | 2.6000 |" in floors
    assert f"Floors: {CONVENTION}." in floors and f"Floors: {report.CONTAINER_FLOORS}." in floors
