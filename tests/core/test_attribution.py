"""Attribution on a hand-built model that reads only one feature group: (a), (b) and (c)
must give everything to that group."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from holozero.attribution import markdown, run
from holozero.doors import DOORS
from holozero.features import BASE_GROUPS, FEAT_DIM, GROUPS
from holozero.segments import SEGMENTS
from models import ByteModel, Decoder

K, DIM = 4, 128


def one_group_model(group: str) -> ByteModel:
    """Norms removed (they would mix channels), and every weight that reads the residual
    stream zeroed outside ``group``'s addresses (in every slot position and the stream)."""
    torch.manual_seed(0)
    body = Decoder(dim=DIM, n_layers=1, n_heads=4)
    block = body.blocks[0]
    block.norm1, block.norm2, body.norm = nn.Identity(), nn.Identity(), nn.Identity()
    cols = [k * FEAT_DIM + c for k in range(K) for c in GROUPS[group]]
    keep = torch.zeros(DIM)
    keep[cols] = 1.0
    with torch.no_grad():
        for linear in (block.attn.qkv, block.mlp.gate_up, body.head):
            linear.weight.normal_(std=0.3)
            linear.weight.mul_(keep)
    return ByteModel(DOORS["zero"](K=K, dim=DIM), body).eval()


def batches(n=24):
    g = torch.Generator().manual_seed(1)
    text = {
        "ids": torch.randint(0, 256, (n, 32 + 16), generator=g),
        "segment": torch.full((n, 16), SEGMENTS.index("text")),
    }
    audio = {
        "ids": torch.randint(100, 160, (n, 32 + 16), generator=g),
        "segment": torch.full((n, 16), SEGMENTS.index("audio")),
    }
    return {"text": text, "audio": audio}


@pytest.mark.parametrize("group", ["fourier", "dxor", "phase"])
def test_all_attribution_goes_to_the_only_group_read(group):
    result = run(one_group_model(group), batches())
    others = [g for g in BASE_GROUPS if g != group]
    for path in ("slot", "stream"):  # (a)
        assert result["weight_mass"][path]["groups"][group] == pytest.approx(1.0)
    for modality, entry in result["modalities"].items():
        assert entry["grad_x_input"]["groups"][group] == pytest.approx(1.0), modality  # (c)
        for g in others:
            assert entry["grad_x_input"]["groups"][g] == 0.0
            assert entry["ablation"][g]["mean"] == 0.0 and entry["ablation"][g]["high"] == 0.0  # (b)
        assert entry["ablation"][group]["mean"] != 0.0
    assert "| " + group + " |" in markdown(result)


def test_slot_positions_are_attributed_where_the_model_reads():
    """A model reading only byte 2 of each slot (and the stream's own channel addresses)."""
    torch.manual_seed(0)
    body = Decoder(dim=DIM, n_layers=1, n_heads=4)
    block = body.blocks[0]
    block.norm1, block.norm2, body.norm = nn.Identity(), nn.Identity(), nn.Identity()
    keep = torch.zeros(DIM)
    keep[2 * FEAT_DIM : 3 * FEAT_DIM] = 1.0  # slot byte 2; stream bytes use addresses 0..26 -> unread
    with torch.no_grad():
        for linear in (block.attn.qkv, block.mlp.gate_up, body.head):
            linear.weight.normal_(std=0.3)
            linear.weight.mul_(keep)
    net = ByteModel(DOORS["zero"](K=K, dim=DIM), body).eval()
    result = run(net, batches())
    assert result["weight_mass"]["slot"]["positions"] == pytest.approx([0, 0, 1, 0])
    for entry in result["modalities"].values():
        assert entry["grad_x_input"]["positions"] == pytest.approx([0, 0, 1, 0])
        assert [a["mean"] for a in entry["ablation_positions"]][0] == 0.0
        assert entry["ablation_positions"][2]["mean"] != 0.0


def test_hsl_proj_is_read_through_its_projection():
    torch.manual_seed(0)
    net = ByteModel(DOORS["hsl_proj"](K=K, dim=DIM), Decoder(dim=DIM, n_layers=1, n_heads=4)).eval()
    with torch.no_grad():  # the projection passes only the phase channels
        for proj in (net.door.slot_proj, net.door.stream_proj):
            mask = torch.zeros(proj.weight.shape[1])
            idx = [k * FEAT_DIM + c for k in range(proj.weight.shape[1] // FEAT_DIM) for c in GROUPS["phase"]]
            mask[idx] = 1.0
            proj.weight.mul_(mask)
    result = run(net, batches(8))
    assert result["weight_mass"]["slot"]["groups"]["phase"] == pytest.approx(1.0)
    assert np.isfinite(result["modalities"]["text"]["bpb"])


def test_other_layouts_are_refused():
    with pytest.raises(ValueError, match="27-channel HSL layout"):
        run(ByteModel(DOORS["raw_bits"](K=K, dim=DIM), Decoder(dim=DIM, n_layers=1, n_heads=4)), batches(2))
