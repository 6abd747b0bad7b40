"""``holozero analyze`` on a trained run: files written, shares that sum to one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli

from holozero.commands.analyze import main as analyze_main

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_analyze_command_on_a_trained_run(tmp_path):
    run_cli(
        [
            "fit",
            "--config",
            str(ROOT / "configs" / "sweeps" / "tiny_text.yaml"),
            "--trainer.default_root_dir",
            str(tmp_path),
            "--trainer.max_steps",
            "10",
            "--trainer.enable_progress_bar",
            "false",
            "--data.init_args.cache_dir",
            str(tmp_path / "cache"),
        ]
    )
    run = next((tmp_path / "lightning_logs").iterdir())
    analyze_main(["--ckpt_path", str(run / "checkpoints" / "last.ckpt"), "--windows", "8"])
    out = run / "analysis"
    result = json.loads((out / "analysis.json").read_text())
    assert result["door"] == "ZeroDoor" and result["K"] == 2 and "text" in result["modalities"]
    assert sum(result["modalities"]["text"]["grad_x_input"]["groups"].values()) == pytest.approx(1.0)
    assert (out / "group_x_modality.png").exists() and (out / "slot_x_modality.png").exists()
