"""bf16-mixed training on CPU: autocast reaches every body GEMM (the oneDNN path steps aside),
the loss stays float32, the weights, their gradients and the checkpoints stay float32, and a
bf16-trained checkpoint is scored in float32."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import run_cli, scalars, tiny_fit_args, write_docs

import models.gemm as gemm
from datamodules.controls import markov2_chain
from holozero.commands.loading import load_net
from holozero.doors import build_door
from models import Decoder
from models.byte_model import ByteModel
from models.gemm import Linear


@pytest.mark.skipif(not gemm.onednn_available(), reason="torch build without oneDNN")
def test_the_onednn_linear_follows_autocast():
    """It used to take its float32 oneDNN product under autocast too: bf16 in, float32 out."""
    torch.manual_seed(0)
    layer = Linear(64, 96, gemm="onednn")
    x = torch.randn(5, 64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(x)
        expected = F.linear(x, layer.weight)  # autocast's own bf16 product
    assert y.dtype == torch.bfloat16
    torch.testing.assert_close(y, expected, rtol=0, atol=0)
    assert layer(x).dtype == torch.float32  # and float32 outside autocast


@pytest.mark.parametrize("gemm_name", ["aten", "onednn"])
def test_the_bf16_loss_agrees_with_float32_on_one_batch(gemm_name):
    """Tolerance: 1e-3 relative on the mean loss and 2e-2 nats on any single target (bf16 keeps
    8 bits of mantissa in the GEMMs; the loss itself is computed in float32)."""
    torch.manual_seed(0)
    net = ByteModel(build_door("zero", K=4, dim=128), Decoder(dim=128, n_layers=2, n_heads=4, gemm=gemm_name))
    ids = torch.randint(0, 256, (8, 96))
    targets = ids[:, -32:]
    nats32 = net(ids, 32, targets)[1]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits, nats16 = net(ids, 32, targets)
    assert logits.dtype == torch.bfloat16 and nats16.dtype == torch.float32
    assert abs(nats16.mean() - nats32.mean()) <= 1e-3 * nats32.mean()
    assert (nats16 - nats32).abs().max() <= 2e-2
    nats16.mean().backward()
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in net.parameters())


@pytest.mark.slow
def test_a_bf16_mixed_fit_trains_saves_float32_and_evaluates_in_float32(tmp_path, capsys):
    """Gradient clipping used to stop a bf16-mixed fit (Lightning's mixed plugin refuses to clip
    with a fused optimizer, a guard meant for fp16's grad scaler)."""
    chain = markov2_chain(alphabet=16, alpha=0.5, seed=3)
    corpus = write_docs(tmp_path / "corpus", [chain.sample(4000, np.random.default_rng(i)) for i in range(4)])
    args = tiny_fit_args(corpus, tmp_path / "run", 8, door="HSLProjDoor")
    run_cli(["fit", *args, "--trainer.precision", "bf16-mixed", "--trainer.gradient_clip_val", "1.0"])
    ckpt_path = tmp_path / "run" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 8
    assert all(v.dtype == torch.float32 for v in ckpt["state_dict"].values() if v.is_floating_point())
    states = ckpt["optimizer_states"][0]["state"].values()
    assert all(s["exp_avg"].dtype == torch.float32 for s in states)  # AdamW's moments: float32
    figures = []
    for precision in ("bf16-mixed", "32-true"):  # the run's own config, then float32 asked for
        run_cli(["test", *args, "--trainer.precision", precision, "--ckpt_path", str(ckpt_path)])
        figures.append(scalars(ckpt_path.parent.parent)["test/bpb"][-1])
    assert figures[0] == figures[1]  # scored in float32 whatever the config says
    assert "scored in float32 (trained in bf16-mixed)" in capsys.readouterr().out
    net, _ = load_net(ckpt_path=ckpt_path)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    ids = torch.randint(0, 16, (2, 32))
    logits, nats = net(ids, 16, ids[:, -16:])
    assert logits.dtype == torch.float32 and torch.isfinite(nats).all()
