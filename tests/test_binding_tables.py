"""scripts/binding_tables.py reads the logged gaps at their steps (one numbering) and the probe JSON."""

import importlib.util
import json
import sys
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "binding_tables.py"


def _load():
    spec = importlib.util.spec_from_file_location("binding_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(folder: Path, scale: float) -> Path:
    writer = SummaryWriter(str(folder))
    for step, value in ((160, 0.01), (320, 0.2)):  # validation, test and checkpoint share one step
        writer.add_scalar("val/caption_bpb", 1.0 - value, step)
        for v in ("audio", "frame", "both"):
            for key, x in (("", value), ("/low", value - 0.05), ("/high", value + 0.05), ("/item_mean", value + 0.01)):
                writer.add_scalar(f"val/binding_gap/{v}{key}", scale * x, step)
            for key, x in (("/item_mean/low", value - 0.09), ("/item_mean/high", value + 0.11)):
                writer.add_scalar(f"val/binding_gap/{v}{key}", scale * x, step)
    writer.add_scalar("test/caption_bpb", 0.75, 320)
    for v, items in (("audio", 201), ("frame", 361), ("both", 102)):
        writer.add_scalar(f"test/binding_gap/{v}", scale * 0.3, 320)
        writer.add_scalar(f"test/binding_gap/{v}/items", items, 320)
        for key in ("low", "high", "item_mean", "item_mean/low", "item_mean/high"):
            writer.add_scalar(f"test/binding_gap/{v}/{key}", scale * 0.3, 320)
    writer.close()
    probes = {name: {"n": 7, "mean": scale, "low": -1.0, "high": 2.0} for name in _load().PROBES}
    probes["retrieval"] = {"n": 7, "R@1": 0.5, "R@5": 1.0, "MRR": 0.75, "null_R@1": 0.125, "null_R@5": 0.5}
    probes["retrieval"]["null_MRR"] = 0.25
    (folder / "checkpoints" / "probes").mkdir(parents=True)
    (folder / "checkpoints" / "probes" / "test-step320.json").write_text(json.dumps({"probes": probes}))
    return folder


def test_tables_from_a_run_and_its_control(tmp_path, monkeypatch, capsys):
    run, control = _run(tmp_path / "run", 1.0), _run(tmp_path / "control", 0.0)
    monkeypatch.setattr(sys, "argv", ["binding_tables.py", str(run), str(control)])
    _load().main()
    out = capsys.readouterr().out
    assert "| quickstart | val | 160 | 0.990 | +0.010 [-0.040, +0.060] | +0.020 [-0.080, +0.120] |" in out
    assert "| quickstart | val | 320 | 0.800 | +0.200 [+0.150, +0.250] |" in out
    test_row = (
        "| quickstart | **test** | 320 | 0.750 | +0.300 [+0.300, +0.300] (201) | +0.300 [+0.300, +0.300] | +0.300"
    )
    assert test_row in out
    assert "| + shuffle_captions | **test** | 320 | 0.750 | +0.000 [+0.000, +0.000] (201) |" in out
    assert "| same_length_caption | 7 | +1.000 [-1.000, +2.000] | 7 | +0.000 [-1.000, +2.000] |" in out
    cell = "0.500, 1.000, 0.750 (null 0.125, 0.500, 0.250)"
    assert f"| retrieval (R@1, R@5, MRR; null: media blanked) | 7 | {cell} | 7 | {cell} |" in out


def test_the_probes_are_the_latest_steps_not_the_last_name(tmp_path):
    # by name "test-step96" sorts after "test-step320"; the table is the last checkpoint's
    folder = _run(tmp_path / "run", 1.0) / "checkpoints" / "probes"
    (folder / "test-step96.json").write_text(json.dumps({"probes": {"early": {"n": 1, "mean": 9.0}}}))
    assert "early" not in _load().probes(tmp_path / "run")
