"""The pinned torch trio must import together (a CPU-only torch wheel breaks the other two)."""

import importlib.metadata as md
import subprocess
import sys

import pytest
import torch
import torchaudio
import torchvision

pytestmark = pytest.mark.slow  # end-to-end runs and subprocesses


def test_torch_trio_imports_and_matches_the_pins():
    assert md.version("torch").startswith("2.11.0")
    assert md.version("torchvision").startswith("0.26.0")
    assert md.version("torchaudio").startswith("2.11.0")
    # exercise one op of each so a broken native extension fails here
    assert torchvision.ops.box_area(torch.tensor([[0.0, 0.0, 2.0, 3.0]])).item() == 6.0
    x = torch.linspace(-1, 1, 11)
    assert torchaudio.functional.mu_law_encoding(x, 256).dtype == torch.int64


def test_distribution_installs_every_package(tmp_path):
    """Imported from outside the checkout, so only the installed distribution can satisfy it."""
    code = "import holozero, datamodules, models, callbacks, importlib.metadata as m; m.distribution('holozero')"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
