import pytest
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


# --- the hand-written attention/rotary/SwiGLU against a plain reference ------------------
# The reference is the body as first written (issue #18 replaced it for speed): rotary by
# chunk + cat over [B, H, T, D], SwiGLU by chunk, the same parameter names, so it also
# stands for an old checkpoint.


def _reference_forward(body: Decoder, prefix: torch.Tensor, stream: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    x = torch.cat([prefix, stream], dim=1)
    B, T, C = x.shape
    H = body.n_heads
    D = C // H
    inv_freq = 1.0 / (body.rope_base ** (torch.arange(0, D, 2, dtype=torch.float32) / D))
    angles = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)

    def rope(t):
        t1, t2 = t.chunk(2, dim=-1)
        return torch.cat([t1 * cos - t2 * sin, t1 * sin + t2 * cos], dim=-1)

    for blk in body.blocks:
        q, k, v = blk.attn.qkv(blk.norm1(x)).view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(rope(q), rope(k), v, is_causal=True)
        x = x + blk.attn.proj(y.transpose(1, 2).reshape(B, T, C))
        gate, up = blk.mlp.gate_up(blk.norm2(x)).chunk(2, dim=-1)
        x = x + blk.mlp.down(F.silu(gate) * up)
    h = body.norm(x)
    N = prefix.shape[1]
    return body.head(h[:, max(N - 1, 0) : T - 1])


def _grads(body, fn, prefix, stream):
    body.zero_grad(set_to_none=True)
    out = fn(prefix, stream)
    (out * torch.linspace(-1, 1, out.shape[-1], dtype=out.dtype)).sum().backward()
    return out.detach(), {n: p.grad.clone() for n, p in body.named_parameters()}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("compiling", [False, True])  # True: the plain path torch.compile traces
def test_attention_rotary_and_swiglu_match_the_reference(dtype, compiling, monkeypatch):
    body = _body().to(dtype).train()
    for p in body.parameters():  # away from the tiny init, so every term matters
        torch.nn.init.normal_(p, std=0.2)
    prefix, stream = torch.randn(3, 5, 64, dtype=dtype), torch.randn(3, 11, 64, dtype=dtype)
    ref_out, ref_grads = _grads(body, lambda p, s: _reference_forward(body, p, s), prefix, stream)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: compiling)
    out, grads = _grads(body, body, prefix, stream)
    tol = {"atol": 1e-5, "rtol": 1e-4} if dtype == torch.float32 else {"atol": 1e-12, "rtol": 1e-10}
    torch.testing.assert_close(out, ref_out, **tol)
    for name, g in ref_grads.items():
        torch.testing.assert_close(grads[name], g, **tol, msg=name)


def test_hand_written_backwards_pass_gradcheck():
    from models.decoder import RotaryQKV, SwiGLUFn, rotary_tables

    torch.manual_seed(0)
    qkv = torch.randn(2, 5, 3, 2, 8, dtype=torch.float64, requires_grad=True)
    cos, sin = rotary_tables(5, 8, 10000.0, "cpu", torch.float64)
    assert torch.autograd.gradcheck(lambda t: RotaryQKV.apply(t, cos, sin), (qkv,))
    gate_up = torch.randn(2, 5, 12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(SwiGLUFn.apply, (gate_up,))


def test_old_checkpoints_load_unchanged():
    """Parameter names and layouts are those of the body before issue #18: a state dict
    written then loads strictly and scores the same."""
    body = _body()
    names = {
        "blocks.0.norm1.weight",
        "blocks.0.norm1.bias",
        "blocks.0.attn.qkv.weight",
        "blocks.0.attn.proj.weight",
        "blocks.0.norm2.weight",
        "blocks.0.norm2.bias",
        "blocks.0.mlp.gate_up.weight",
        "blocks.0.mlp.down.weight",
    }
    keys = set(body.state_dict())
    assert {k for k in keys if k.startswith("blocks.0.")} == names
    assert keys - {k for k in keys if k.startswith("blocks.")} == {"norm.weight", "norm.bias", "head.weight"}
    old = {k: torch.randn_like(v) * 0.1 for k, v in body.state_dict().items()}
    fresh = _body()
    fresh.load_state_dict(old, strict=True)
    prefix, stream = torch.randn(2, 4, 64), torch.randn(2, 6, 64)
    torch.testing.assert_close(fresh(prefix, stream), _reference_forward(fresh, prefix, stream), atol=1e-5, rtol=1e-4)
