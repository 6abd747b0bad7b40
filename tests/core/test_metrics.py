import math

import torch

from holozero.metrics import BitsPerByte
from holozero.segments import SEGMENTS
from holozero.specials import EOS, SEP


def test_bpb_by_hand_with_specials_excluded():
    m = BitsPerByte()
    nats = torch.tensor([[math.log(2), 2 * math.log(2), 5.0], [3 * math.log(2), 7.0, math.log(2)]])
    targets = torch.tensor([[65, 66, EOS], [1, SEP, 200]])
    segment = torch.tensor([[0, 0, 0], [1, 1, 1]])
    m.update(nats, targets, segment)
    out = m.compute()
    # text: 1 + 2 bits over 2 bytes; caption: 3 + 1 bits over 2 bytes; EOS/SEP never counted
    assert math.isclose(out["text_bpb"].item(), 1.5, rel_tol=1e-6)
    assert math.isclose(out["caption_bpb"].item(), 2.0, rel_tol=1e-6)
    assert math.isclose(out["bpb"].item(), 7 / 4, rel_tol=1e-6)
    assert "audio_bpb" not in out and m.byte_count() == 4


def test_uniform_prediction_is_8_bits():
    m = BitsPerByte()
    logits = torch.zeros(4, 10, 256)
    targets = torch.randint(0, 256, (4, 10))
    nats = torch.nn.functional.cross_entropy(logits.reshape(-1, 256), targets.reshape(-1), reduction="none")
    m.update(nats.view(4, 10), targets, torch.full((4, 10), SEGMENTS.index("audio")))
    assert math.isclose(m.compute()["audio_bpb"].item(), 8.0, rel_tol=1e-6)


def test_sum_states_merge_like_one_process():
    """Two 'ranks' with different byte counts: merged sums, not an average of means."""
    a, b, whole = BitsPerByte(), BitsPerByte(), BitsPerByte()
    gen = torch.Generator().manual_seed(0)
    parts = []
    for n in (3, 17):
        parts.append(
            (
                torch.rand(1, n, generator=gen),
                torch.randint(0, 256, (1, n), generator=gen),
                torch.zeros(1, n, dtype=torch.long),
            )
        )
    a.update(*parts[0])
    b.update(*parts[1])
    for p in parts:
        whole.update(*p)
    a.merge_state(b)
    assert torch.allclose(a.compute()["bpb"], whole.compute()["bpb"])
    mean_of_means = (parts[0][0].mean() + parts[1][0].mean()) / 2 / math.log(2)
    assert not torch.isclose(whole.compute()["bpb"].float(), mean_of_means)
