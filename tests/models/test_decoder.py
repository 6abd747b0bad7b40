import torch

from holozero.doors import DOORS
from models import ByteModel, Decoder


def _body(**kw):
    torch.manual_seed(0)
    return Decoder(dim=64, n_layers=2, n_heads=4, **kw).eval()


def test_shapes_every_stream_byte_scored():
    body = _body()
    prefix, stream = torch.randn(2, 5, 64), torch.randn(2, 7, 64)
    assert body(prefix, stream).shape == (2, 7, 258)
    assert body(prefix[:, :0], stream).shape == (2, 6, 258)  # no prefix: bytes 1..M-1


def test_causal_across_the_concatenation():
    body = _body().double()
    for p in body.parameters():  # well away from the tiny init, so every dependence shows
        torch.nn.init.normal_(p, std=0.3)
    prefix, stream = torch.randn(1, 4, 64, dtype=torch.float64), torch.randn(1, 6, 64, dtype=torch.float64)
    base = body(prefix, stream)
    later = stream.clone()
    later[:, 3] += torch.randn(
        64, dtype=torch.float64
    )  # stream byte 3 may only affect predictions made at positions ≥ 3
    out = body(prefix, later)
    # logits row j is made at stream position j-1 (row 0 at the last slot)
    torch.testing.assert_close(out[:, :4], base[:, :4])
    assert not torch.allclose(out[:, 4:], base[:, 4:])
    first_slot = prefix.clone()
    first_slot[:, 0] += torch.randn(64, dtype=torch.float64)  # every stream byte sees every prefix slot
    assert (body(first_slot, stream) - base).abs().amax(-1).gt(0).all()


def test_published_recipe_parameter_count():
    body = Decoder(dim=512, n_layers=6, n_heads=8)
    per_layer = 4 * 512 * 512 + 3 * 512 * 2048 + 4 * 512  # attention, SwiGLU, two LayerNorms
    expected = 6 * per_layer + 2 * 512 + 512 * 258
    assert sum(p.numel() for p in body.parameters()) == expected  # 25,300,992


def test_per_byte_baseline_scores_the_same_bytes():
    door = DOORS["zero"](K=1, dim=64)
    net = ByteModel(door, _body(), per_byte=True)
    ids = torch.randint(0, 256, (2, 24))
    logits, nats = net(ids, 8)
    assert nats is None  # no targets given
    assert logits.shape == (2, 8, 258)
    # the same as running the whole window through the stream and keeping the last 8 rows
    full = net.body(door.stream(ids)[:, :0], door.stream(ids))
    torch.testing.assert_close(logits, full[:, -8:])


def test_packed_model_uses_one_featurization():
    door = DOORS["zero"](K=2, dim=64)
    net = ByteModel(door, _body())
    ids = torch.randint(0, 256, (2, 24))
    prefix, stream = door.split_window(ids, 16)
    torch.testing.assert_close(net(ids, 8)[0], net.body(prefix, stream))
