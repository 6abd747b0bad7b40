"""The evaluation protocol: every byte of a split scored exactly once, by windows equal to a
byte-at-a-time computation (the floors: tests/core/test_floors.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import tiny_captions

from datamodules.byte_store import build_store
from datamodules.controls import markov2_chain
from datamodules.sources import StreamSource
from holozero.doors import build_door
from holozero.evaluation import AuditError, evaluate_sequences, evaluate_source, layout, windows
from holozero.specials import EOS, NUM_BYTES
from models import ByteModel, Decoder


def _net(K: int, per_byte: bool = False, door: str = "zero") -> ByteModel:
    torch.manual_seed(K)
    return ByteModel(build_door(door, K=K, dim=224), Decoder(dim=224, n_layers=1, n_heads=4), per_byte=per_byte).eval()


@pytest.fixture(scope="module")
def markov_file(tmp_path_factory):
    """One file of a known-entropy source, 10,007 bytes long (a prime: a multiple of nothing)."""
    folder = tmp_path_factory.mktemp("markov")
    data = markov2_chain(alphabet=8, seed=2).sample(10_007, np.random.default_rng(0)).astype(np.uint8)
    (folder / "source.bin").write_bytes(data.tobytes())
    return build_store([folder / "source.bin"], cache_root=folder / "cache")


def test_windows_tile_the_sequence_once():
    for length in (1, 2, 7, 100, 101):
        for context, stride in ((1, 1), (5, 3), (16, 16), (64, 7)):
            spans = windows(length, context, stride)
            scored = [i for _, s, e in spans for i in range(s, e)]
            assert scored == list(range(1, length + 1))  # [EOS] + sequence: every byte once, in order
            assert all(s - c0 <= context and c0 >= 0 for c0, s, _ in spans)


@pytest.mark.parametrize("K", [1, 3, 8])
@pytest.mark.parametrize("context,stride", [(24, 8), (17, 5), (48, 48), (3, 40)])
def test_the_whole_test_range_is_scored_once(markov_file, K, context, stride):
    test = np.asarray(markov_file.stream("test"))
    source = StreamSource(test, context=24, stream_len=8)
    result = evaluate_source(_net(K), source, context=context, stride=stride, batch_size=16)
    assert result["bytes_scored"] == result["bytes_in_split"] == markov_file.meta["test"]["bytes"]
    assert result["bytes_scored"] == int((test < NUM_BYTES).sum()) and (result["context"], result["stride"]) == (
        context,
        stride,
    )


def test_windows_and_layout_of_a_hand_computed_case():
    """7 bytes after the EOS, context 3, stride 2: windows start at 1, 3, 5, 7, each conditioned
    on the (up to) 3 ids before its start; the last one scores the tail alone."""
    assert windows(7, context=3, stride=2) == [(0, 1, 3), (0, 3, 5), (2, 5, 7), (4, 7, 8)]
    assert windows(3, context=8, stride=8) == [(0, 1, 4)]
    # a packed model takes whole K-byte slots of the conditioning; the per-byte model none
    assert [layout(c, 4, False) for c in (0, 3, 4, 11, 12)] == [0, 0, 4, 8, 12]
    assert layout(11, 4, True) == 0


def _byte_at_a_time(net, seq: np.ndarray, context: int, stride: int) -> float:
    """Mean −log₂ p over the bytes of ``seq``, one forward per byte, from the protocol's words
    alone (holozero/evaluation.py's docstring; neither ``windows`` nor ``layout``): byte i of
    ``seq`` (after the leading EOS, id i+1) is scored by the window starting at the largest
    1 + m·stride ≤ i+1, conditioned on the (up to) ``context`` ids before that start and the
    window's earlier bytes; a packed model takes whole K-byte slots of the conditioning as its
    prefix and the rest in its stream."""
    full = [EOS, *(int(b) for b in seq)]
    bits, n = 0.0, 0
    for i in range(len(seq)):
        j = i + 1
        if full[j] >= NUM_BYTES:
            continue
        start = 1 + (i // stride) * stride
        conditioning = min(context, start)
        prefix = 0 if net.per_byte else conditioning - conditioning % net.door.K
        ids = torch.tensor(full[start - conditioning : j + 1])[None]
        stream_len = ids.shape[1] - prefix
        logits, _ = net(ids, stream_len, ids[:, 1:] if (prefix == 0 and not net.per_byte) else None)
        logp = torch.log_softmax(logits[0, -1].double(), dim=-1)[full[j]]
        bits -= float(logp) / math.log(2)
        n += 1
    return bits / n


@pytest.mark.parametrize(
    "K,per_byte,door", [(1, False, "zero"), (3, False, "byte_embed"), (8, False, "zero"), (1, True, "byte_embed")]
)
def test_whole_split_bpb_equals_one_byte_at_a_time(K, per_byte, door):
    seq = np.random.default_rng(1).integers(0, 256, 61)
    seq[[20, 41]] = EOS  # document boundaries inside the split are inputs, never scored bytes
    net = _net(K, per_byte, door)
    for context, stride in ((16, 8), (9, 5)):
        result = evaluate_sequences(net, [seq], "text", context, stride, batch_size=4)
        assert result["bytes_scored"] == 59
        assert result["bpb"] == pytest.approx(_byte_at_a_time(net, seq, context, stride), abs=1e-4)


@pytest.mark.parametrize("per_byte", [False, True])
def test_scoring_a_split_builds_no_autograd_graph(markov_file, per_byte):
    """Every segment is scored without autograd: a graph kept over a whole forward held every
    layer's activations (12 GB for a per-byte 4-layer model's captions before this test)."""
    net = _net(2, per_byte)
    grad_modes = []
    net.register_forward_hook(lambda module, args, out: grad_modes.append(torch.is_grad_enabled()))
    text = StreamSource(np.asarray(markov_file.stream("test"))[:300], context=24, stream_len=8)
    for source in (text, tiny_captions(6)):
        result = evaluate_source(net, source, batch_size=4)
        assert result["bytes_scored"] == result["bytes_in_split"] > 0
    assert grad_modes and not any(grad_modes), grad_modes


def test_an_audit_mismatch_is_an_error():
    """What was scored is counted by the metric, what the split holds from the data: any
    difference (a dropped tail, a byte counted twice) stops the evaluation."""
    from holozero.evaluation import _result

    assert _result(_metric_with(10), "text", 10, 4, 4)["bytes_scored"] == 10
    with pytest.raises(AuditError, match="scored 10 bytes but the split holds 11"):
        _result(_metric_with(10), "text", 11, 4, 4)


def _metric_with(count: int):
    from holozero.metrics import BitsPerByte

    m = BitsPerByte()
    m.update(torch.ones(1, count), torch.zeros(1, count, dtype=torch.long), torch.zeros(1, count, dtype=torch.long))
    return m
