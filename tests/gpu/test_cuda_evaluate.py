"""On CUDA (the ``gpu`` marker; skipped without it): ``holozero evaluate --device cuda`` (the
campaign's evaluate) reports what it reports on the CPU."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import run_cli, tiny_fit_args, write_docs

from datamodules.controls import markov2_chain

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_evaluate_on_the_gpu_equals_evaluate_on_the_cpu(tmp_path):
    chain = markov2_chain(alphabet=16, alpha=0.5, seed=3)
    paths = write_docs(tmp_path / "data", [chain.sample(6000, np.random.default_rng(i)) for i in range(6)])
    run_cli(["fit", *tiny_fit_args(paths, tmp_path, 6, val_bytes=64), "--trainer.accelerator", "cpu"])
    ckpt = next((tmp_path / "lightning_logs").iterdir()) / "checkpoints" / "last.ckpt"
    figures = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / f"{device}.json"
        cmd = [sys.executable, "-m", "holozero", "evaluate", "--device", device, "--ckpt_path", str(ckpt)]
        cmd += ["--no_progress"]
        subprocess.run(cmd + ["--out", str(out)], check=True, capture_output=True, text=True)
        figures[device] = json.loads(out.read_text())["segments"]["text"]
    assert figures["cuda"]["bytes_scored"] == figures["cpu"]["bytes_scored"] == figures["cpu"]["bytes_in_split"]
    assert figures["cuda"]["bpb"] == pytest.approx(figures["cpu"]["bpb"], abs=1e-4)  # fp32 on both
