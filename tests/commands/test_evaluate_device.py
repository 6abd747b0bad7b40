"""``holozero evaluate --device``: a wrong device, or CUDA where there is none, is one usage error."""

from __future__ import annotations

import pytest
import torch
from helpers import run_cli


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("gpu0", "--device 'gpu0' is not a device"),
        pytest.param(
            "cuda",
            "no CUDA device here",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here"),
        ),
    ],
)
def test_a_wrong_device_is_named(device, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_cli(["evaluate", "--ckpt_path", "any.ckpt", "--device", device])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
