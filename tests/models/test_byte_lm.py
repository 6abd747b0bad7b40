from holozero.doors import DOORS
from models import ByteLM, Decoder


def _lm(door="byte_embed", **kw):
    return ByteLM(DOORS[door](K=2, dim=64), Decoder(dim=64, n_layers=1, n_heads=4), **kw)


def test_compile_keeps_checkpoint_keys_plain():
    lm = _lm("zero", compile=True)
    lm.configure_model()
    assert lm._compiled is not None
    assert not any("_orig_mod" in k for k in lm.state_dict())
    assert set(lm.state_dict()) == set(_lm("zero").state_dict())


def _windows(segment: str, B: int = 3, W: int = 24, S: int = 8):
    import torch

    from holozero.segments import SEGMENTS

    ids = torch.randint(0, 256, (B, W), generator=torch.Generator().manual_seed(0))
    return {"ids": ids, "segment": torch.full((B, S), SEGMENTS.index(segment))}


def test_per_byte_baseline_trains_on_every_position_of_a_continuation_window():
    """nanoGPT-style: all W-1 next-byte targets of a text/audio/frame window enter the loss,
    not only the last S (the FLOPs of every position are paid for)."""
    import torch
    import torch.nn.functional as F

    lm = _lm("byte_embed", per_byte=True)
    for segment in ("text", "audio", "frame"):
        batch = _windows(segment)
        targets = lm.net.training_targets(batch["ids"], batch["segment"])
        assert torch.equal(targets, batch["ids"][:, 1:])
        # the loss equals cross-entropy over every position, computed here from the body directly
        stream = lm.net.door.stream(batch["ids"])
        logits = lm.net.body(stream[:, :0], stream)
        expected = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["ids"][:, 1:].reshape(-1))
        lm._trainer = None
        got = lm(batch["ids"], 8, targets)[1].mean()
        torch.testing.assert_close(got, expected)


def test_per_byte_baseline_does_not_train_on_the_conditioning_of_a_caption_unless_asked():
    import torch

    from holozero.specials import PAD

    batch = _windows("caption")
    targets = _lm("byte_embed", per_byte=True).net.training_targets(batch["ids"], batch["segment"])
    assert (targets[:, :-8] == PAD).all() and torch.equal(targets[:, -8:], batch["ids"][:, -8:])
    every = _lm("byte_embed", per_byte=True, per_byte_targets="all").net.training_targets(
        batch["ids"], batch["segment"]
    )
    assert torch.equal(every, batch["ids"][:, 1:])


def _nats_one_byte_at_a_time(net, ids, S: int):
    """−ln p of each of the last S bytes, one forward per byte on the window cut right after it:
    the byte is the last target of that forward, so no slicing of a longer output is involved.
    Packed: the first W−S ids stay the prefix; per-byte: every id is in the stream."""
    import torch

    W, out = ids.shape[1], []
    for j in range(W - S, W):
        window = ids[:, : j + 1]
        stream_len = j + 1 if net.per_byte else j + 1 - (W - S)
        logits = net(window, stream_len)[0][:, -1]
        out.append(-torch.log_softmax(logits.double(), -1).gather(1, window[:, -1:])[:, 0])
    return torch.stack(out, 1)


def test_packed_arms_and_the_baseline_are_scored_on_the_same_bytes():
    """Both score the window's last S bytes: each nat equals that byte's −ln p computed alone."""
    import torch

    batch = _windows("text")
    for per_byte in (False, True):
        lm = _lm("byte_embed", per_byte=per_byte)
        nats, targets = lm.score(batch)
        assert torch.equal(targets, batch["ids"][:, -8:])
        with torch.no_grad():
            expected = _nats_one_byte_at_a_time(lm.net.eval(), batch["ids"], 8)
        torch.testing.assert_close(nats.double(), expected, atol=1e-5, rtol=1e-5)
    packed = _lm("byte_embed").net.training_targets(batch["ids"], batch["segment"])
    assert torch.equal(packed, batch["ids"][:, -8:])  # a packed arm trains on its stream
