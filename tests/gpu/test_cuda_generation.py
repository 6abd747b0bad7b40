"""On CUDA (the ``gpu`` marker; skipped without it): cached generation equals a full recompute."""

from __future__ import annotations

import pytest
import torch

from holozero.commands.generate import Generator
from holozero.doors import DOORS
from models import ByteModel, Decoder

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

# fp32 on the GPU (TF32 off, torch's default): one-position attention over the cache and the
# full window take different kernels, so they agree to float32 rounding, not bitwise.
LOGITS_ATOL = 1e-4


@pytest.mark.parametrize("per_byte,K", [(False, 8), (True, 1)])
def test_cached_generation_equals_a_full_recompute_on_the_gpu(per_byte, K):
    torch.manual_seed(0)
    net = ByteModel(DOORS["zero"](K=K, dim=256), Decoder(dim=256, n_layers=2, n_heads=4), per_byte=per_byte)
    gen = Generator(net.cuda().eval(), context_bytes=48, stream_bytes=24)  # small: folds and slides happen
    runs = {}
    for cached in (True, False):
        logits = []
        out = gen.generate(b"The quick brown fox ", 120, temperature=0, stop_at_eos=False, use_cache=cached,
                           on_logits=logits.append)  # fmt: skip
        runs[cached] = (out, torch.stack(logits))
    assert runs[True][1].device.type == "cuda"
    assert runs[True][0] == runs[False][0] and len(runs[True][0]) > 0
    assert (runs[True][1] - runs[False][1]).abs().max() <= LOGITS_ATOL
