"""Log-likelihoods of byte continuations: the evaluation protocol's windows, equal to one
forward per byte, equal to ``evaluate_sequences`` on a whole sequence, batched or not."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from holozero.doors import build_door
from holozero.evaluation import evaluate_sequences, layout, windows
from holozero.likelihood import score_continuations, spans, window_count
from holozero.specials import EOS
from models import ByteModel, Decoder


def _net(K: int, per_byte: bool = False) -> ByteModel:
    torch.manual_seed(K)
    return ByteModel(
        build_door("zero", K=K, dim=224), Decoder(dim=224, n_layers=1, n_heads=4), per_byte=per_byte
    ).eval()


def _random_bytes(rng: np.random.Generator, n: int) -> bytes:
    return rng.integers(0, 256, n).astype(np.uint8).tobytes()


NETS = {"K3": lambda: _net(3), "K1": lambda: _net(1), "per_byte": lambda: _net(4, per_byte=True)}


def _byte_at_a_time(net, ctx: bytes, cont: bytes, context: int, stride: int) -> list[tuple[float, int]]:
    """(ln p, argmax) of each continuation byte, one forward per byte: byte j is predicted from
    its window's conditioning and the window's earlier bytes, laid out with the window's slots."""
    full = [EOS, *ctx, *cont]
    out = []
    for c0, s, e in spans(len(ctx) + 1, len(full), context, stride):
        prefix = layout(s - c0, net.door.K, net.per_byte)
        for j in range(s, e):
            ids = torch.tensor([full[c0 : j + 1]])
            with torch.no_grad():
                logits, _ = net(ids, 1 if net.per_byte else ids.shape[1] - prefix)
            logp = torch.log_softmax(logits[0, -1].double(), dim=-1)
            out.append((float(logp[full[j]]), int(logp.argmax())))
    return out


def test_spans_from_the_first_byte_are_the_protocols_windows():
    for n in (1, 2, 7, 100):
        for context, stride in ((1, 1), (5, 3), (16, 16), (64, 7)):
            assert spans(1, n + 1, context, stride) == windows(n, context, stride)
    assert spans(5, 12, 3, 4) == [(2, 5, 9), (6, 9, 12)]  # scored 5..11, conditioned on ≤ 3 ids each
    with pytest.raises(ValueError, match="context and stride must be ≥ 1"):
        spans(1, 5, 0, 4)


@pytest.mark.parametrize("name", sorted(NETS))
@pytest.mark.parametrize("context,stride", [(12, 6), (7, 5), (3, 20)])
def test_each_byte_is_scored_once_as_one_forward_per_byte_would(name, context, stride):
    net = NETS[name]()
    rng = np.random.default_rng(0)
    requests = [(b"", _random_bytes(rng, 23)), (b"The cat ", b"sat on the mat."), (bytes(range(40)), b"x")]
    got = score_continuations(net, requests, context, stride, batch_size=4)
    for (ctx, cont), (logp, _) in zip(requests, got, strict=True):
        expected = sum(lp for lp, _ in _byte_at_a_time(net, ctx, cont, context, stride))
        assert logp == pytest.approx(expected, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("name", sorted(NETS))
def test_a_document_scores_as_evaluate_sequences_scores_it(name):
    net = NETS[name]()
    doc = np.random.default_rng(1).integers(0, 256, 301)
    bpb = evaluate_sequences(net, [doc], "text", context=24, stride=8, batch_size=16)["bpb"]
    [(logp, _)] = score_continuations(net, [(b"", bytes(doc.astype(np.uint8)))], context=24, stride=8)
    assert -logp / len(doc) / math.log(2) == pytest.approx(bpb, rel=1e-6)


def test_batching_does_not_change_the_scores():
    net = _net(2)
    rng = np.random.default_rng(2)
    requests = [(_random_bytes(rng, n), _random_bytes(rng, m)) for n, m in ((0, 50), (9, 30), (3, 3))]
    one = score_continuations(net, requests, 10, 4, batch_size=1)
    many = score_continuations(net, requests, 10, 4, batch_size=64)
    assert [g for _, g in one] == [g for _, g in many]
    assert [x for x, _ in one] == pytest.approx([x for x, _ in many], rel=1e-6)
    assert window_count(requests, 4) == 13 + 8 + 1


def test_greedy_is_true_only_when_every_continuation_byte_is_the_argmax():
    net, ctx, context, stride = _net(2), b"ab", 4, 2
    cont: list[int] = []
    for _ in range(8):  # greedy bytes, found one forward per byte (argmax over bytes only)
        steps = _byte_at_a_time(net, ctx, bytes([*cont, 0]), context, stride)
        logits_argmax = steps[-1][1]
        assert logits_argmax < 256, "the tiny net's argmax is a special; pick another seed"
        cont.append(logits_argmax)
    flipped = list(cont)
    flipped[3] = (cont[3] + 1) % 256  # inside the second of three same-shaped windows
    (_, greedy), (_, not_greedy) = score_continuations(
        net, [(ctx, bytes(cont)), (ctx, bytes(flipped))], context, stride
    )
    assert greedy and not not_greedy
    assert score_continuations(net, [(ctx, b"")], context, stride) == [(0.0, True)]
