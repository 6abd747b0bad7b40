"""The parameters a run reports are the parameters that train: every counted one gets a nonzero
gradient in one training step of every arm, packed and per-byte, and the counts are the sums
of exactly those. An old per-byte checkpoint (saved with the slot table it never used) loads."""

from __future__ import annotations

import pytest
import torch

from holozero.doors import PRESETS, build_door
from holozero.losses import mean_loss
from holozero.segments import SEGMENTS
from holozero.specials import NUM_IDS
from models import ByteLM, ByteModel, Decoder


def _net(name: str, per_byte: bool, K: int = 2, dim: int = 64) -> ByteModel:
    dim = 528 if name == "onehot" else dim  # one-hot needs 259·K channels
    torch.manual_seed(0)
    door = build_door(name, K=1 if per_byte else K, dim=dim)
    return ByteModel(door, Decoder(dim=dim, n_layers=1, n_heads=4), per_byte=per_byte)


def _training_step(net: ByteModel) -> None:
    """What ByteLM.training_step computes, then backward: one text batch, random bytes."""
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 256, (4, 24), generator=g)
    segment = torch.full((4, 8), SEGMENTS.index("text"))
    targets = net.training_targets(ids, segment)
    mean_loss(net(ids, segment.shape[1], targets)[1], targets).backward()


@pytest.mark.parametrize("per_byte", [False, True], ids=["packed", "per_byte"])
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_counted_parameter_trains(name, per_byte):
    net = _net(name, per_byte)
    _training_step(net)
    counted = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    silent = [n for n, p in counted if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent, f"counted but given no gradient: {silent}"
    trained = {n: p.numel() for n, p in counted}
    counts = net.parameter_counts()
    assert counts["total"] == sum(trained.values())
    assert counts["learned_input"] == sum(v for n, v in trained.items() if n.startswith("door."))
    assert counts["body"] == sum(v for n, v in trained.items() if n.startswith("body."))


def test_the_per_byte_baseline_counts_its_one_table():
    """byte_embed at dim 448, K=1: 259·448 = 116,032 learned input parameters (the stream table);
    232,064 with the slot table the per-byte model never reads."""
    door = build_door("byte_embed", K=1, dim=448)
    assert door.learned_parameters == 2 * NUM_IDS * 448 == 232_064
    net = ByteModel(door, Decoder(dim=448, n_layers=1, n_heads=4), per_byte=True)
    assert net.parameter_counts()["learned_input"] == NUM_IDS * 448 == 116_032


def test_an_old_per_byte_checkpoint_loads_without_its_slot_table():
    """Saved before the slot table was dropped, a per-byte state dict holds door.slot_embed:
    it loads (bare and under a LightningModule's ``net.`` prefix), every trained tensor with it."""
    old = _net("byte_embed", per_byte=False, K=1)  # the same modules the per-byte model used to hold
    old_state = old.state_dict()
    assert "door.slot_embed.weight" in old_state
    new = _net("byte_embed", per_byte=True)
    with pytest.warns(UserWarning, match=r"never-trained slot tables are not loaded \(door.slot_embed.weight\)"):
        new.load_state_dict(old_state)
    assert all(torch.equal(v, old_state[k]) for k, v in new.state_dict().items())
    lm = ByteLM(build_door("byte_embed", K=1, dim=64), Decoder(dim=64, n_layers=1, n_heads=4), per_byte=True)
    with pytest.warns(UserWarning, match=r"net\.door\.slot_embed\.weight"):
        lm.load_state_dict({f"net.{k}": v for k, v in old_state.items()})
    assert torch.equal(lm.net.door.stream_embed.weight, old_state["door.stream_embed.weight"])
    # a packed model keeps its slot table: nothing is skipped, a missing table is still an error
    assert old.legacy_slot_keys(old_state) == []
    with pytest.raises(RuntimeError, match="slot_embed"):
        old.load_state_dict({k: v for k, v in old_state.items() if "slot" not in k})


def test_an_old_per_byte_export_loads_without_its_slot_table(tmp_path):
    """from_pretrained used to refuse it (the weights named a tensor the model no longer has)."""
    from safetensors.torch import load_file, save_file

    from models.hub import hub_config

    door = {"class_path": "holozero.doors.ByteEmbedDoor", "init_args": {"K": 1, "dim": 64}}
    body = {"class_path": "models.Decoder", "init_args": {"dim": 64, "n_layers": 1, "n_heads": 4}}
    new = ByteModel.from_config(hub_config(door, body, {"per_byte": True}, (0, 16)))
    new.save_pretrained(tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["door.slot_embed.weight"] = torch.zeros(NUM_IDS, 64)  # what an old export also held
    save_file(tensors, tmp_path / "model.safetensors")
    loaded = ByteModel.from_pretrained(tmp_path)
    assert all(torch.equal(v, new.state_dict()[k]) for k, v in loaded.state_dict().items())
