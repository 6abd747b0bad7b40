"""Each command imports only what it needs: the help and the commands that need no model do
not import torch, Lightning or a media library (the timings are benchmarks/bench_startup.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "lightning", "jsonargparse", "torchvision", "torchaudio", "av", "soundfile", "matplotlib")


@pytest.mark.slow
def test_help_and_light_commands_import_nothing_heavy(tmp_path):
    code = (
        "import sys, contextlib, io\n"
        "import holozero.commands as c, holozero.commands.sweep, holozero.commands.report\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    c.main(['--help'])\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.slow
def test_top_level_help_lists_every_command(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "holozero", "--help"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    for command in ("fit", "validate", "test", "generate", "sweep", "report", "analyze", "summary", "events", "doors"):
        assert f"\n  {command} " in done.stdout, done.stdout
