"""``from holozero import ZeroInput, zero_input`` against the seed package itself
(hsl-embedding-zero 0.1.2, a dev-only oracle): bit-identical where K divides L, and exactly the
documented difference of the tail policies where it does not."""

from __future__ import annotations

import inspect
import subprocess
import sys

import hsl_embedding_zero as seed  # a dev dependency, like the hsl_embedding oracle: absent must fail
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from holozero import ZeroInput, zero_input
from holozero.features import FEAT_DIM, FEAT_NAMES

PHASE_COS = FEAT_NAMES.index("phase_cos")


@st.composite
def door_and_ids(draw, divisible: bool):
    """(K, dim, ids [B, L]) with fuzzed bytes; L a multiple of K or not."""
    K = draw(st.integers(1, 18))
    dim = K * FEAT_DIM + draw(st.integers(0, 40))
    B = draw(st.integers(1, 3))
    if divisible:
        L = K * draw(st.integers(0, 6))
    else:
        L = K * draw(st.integers(0, 5)) + draw(st.integers(1, K - 1)) if K > 1 else None
    if L is None:  # K = 1 divides every length
        K, dim = 2, 2 * FEAT_DIM + 7
        L = 2 * draw(st.integers(0, 5)) + 1
    values = draw(st.lists(st.integers(0, 255), min_size=B * L, max_size=B * L))
    return K, dim, torch.tensor(values, dtype=torch.long).reshape(B, L)


def _pack(feats: torch.Tensor, K: int, dim: int) -> torch.Tensor:
    """[B, n·K, 27] -> [B, n, dim]: K positions per slot at fixed addresses, zero-padded."""
    B = feats.shape[0]
    flat = feats.reshape(B, -1, K * FEAT_DIM)
    return F.pad(flat, (0, dim - flat.shape[-1]))


@settings(max_examples=60, deadline=None)
@given(case=door_and_ids(divisible=True))
def test_forward_stream_features_are_the_seeds_when_K_divides_L(case):
    K, dim, ids = case
    ours, theirs = ZeroInput(K, dim), seed.ZeroInput(K, dim)
    assert torch.equal(ours(ids), theirs(ids))
    assert torch.equal(ours.stream(ids), theirs.stream(ids))
    assert torch.equal(ours.features(ids), theirs.features(ids))
    data = bytes(ids[0].tolist())
    assert torch.equal(zero_input(data, K, dim), seed.zero_input(data, K, dim))


@settings(max_examples=60, deadline=None)
@given(case=door_and_ids(divisible=False))
def test_stream_and_features_agree_at_any_length(case):
    K, dim, ids = case
    ours, theirs = ZeroInput(K, dim), seed.ZeroInput(K, dim)
    assert torch.equal(ours.stream(ids), theirs.stream(ids))
    assert torch.equal(ours.features(ids), theirs.features(ids))


@settings(max_examples=60, deadline=None)
@given(case=door_and_ids(divisible=False))
def test_pad_tail_differs_only_in_the_padded_positions(case):
    """The seed completes the last slot with byte 0x00's features, holozero with PAD's zeros."""
    K, dim, ids = case
    B, L = ids.shape
    r = L % K
    ours, theirs = ZeroInput(K, dim)(ids), seed.ZeroInput(K, dim)(ids)
    assert ours.shape == theirs.shape == (B, L // K + 1, dim)
    assert torch.equal(ours[:, :-1], theirs[:, :-1])  # every full slot
    assert torch.equal(ours[:, -1, K * FEAT_DIM :], theirs[:, -1, K * FEAT_DIM :])  # the zero-pad channels
    our_last = ours[:, -1, : K * FEAT_DIM].reshape(B, K, FEAT_DIM)
    their_last = theirs[:, -1, : K * FEAT_DIM].reshape(B, K, FEAT_DIM)
    assert torch.equal(our_last[:, :r], their_last[:, :r])  # the real bytes of the last slot
    assert not our_last[:, r:].any()  # PAD: all 27 channels zero
    assert (their_last[:, r:, PHASE_COS] == 1).all()  # 0x00: phase_cos = cos 0 = 1, a real byte
    padded = F.pad(ids, (0, K - r), value=0)
    assert torch.equal(their_last[:, r:], ZeroInput(K, dim).features(padded)[:, L:])  # as if NULs followed


@settings(max_examples=60, deadline=None)
@given(case=door_and_ids(divisible=False))
def test_drop_tail_drops_the_oldest_bytes_where_the_seed_drops_the_newest(case):
    K, dim, ids = case
    L = ids.shape[1]
    r = L % K
    feats = seed.ZeroInput(K, dim).features(ids)  # featurized whole, by the oracle
    assert torch.equal(seed.ZeroInput(K, dim, tail="drop")(ids), _pack(feats[:, : L - r], K, dim))
    door = ZeroInput(K, dim, tail="drop")
    assert torch.equal(door(ids), _pack(feats[:, r:], K, dim))
    assert door.dropped_bytes == ids.shape[0] * r  # counted, never silent


def test_the_two_drops_differ_on_a_fixed_example():
    ids = torch.tensor([list(b"abcdefghij")])  # L = 10, K = 4: the seed keeps a..h, holozero c..j
    ours, theirs = ZeroInput(4, 128, tail="drop")(ids), seed.ZeroInput(4, 128, tail="drop")(ids)
    assert ours.shape == theirs.shape == (1, 2, 128) and not torch.equal(ours, theirs)


def test_signatures_and_defaults_are_the_seeds():
    def params(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]

    assert params(ZeroInput.__init__) == params(seed.ZeroInput.__init__)
    assert params(zero_input)[:4] == params(seed.zero_input)  # ours adds tail="pad" after them
    assert ZeroInput().learned_parameters == seed.ZeroInput().learned_parameters == 0
    assert ZeroInput().state_dict().keys() == seed.ZeroInput().state_dict().keys()


def test_bad_input_is_one_clear_error():
    with pytest.raises(TypeError, match=r"takes bytes, got str \(encode text first"):
        zero_input("hello")
    with pytest.raises(ValueError, match="exceeds dim=512; the largest valid K is 18"):
        ZeroInput(19, 512)
    with pytest.raises(ValueError, match="tail must be one of"):
        ZeroInput(8, 512, tail="zero")
    with pytest.raises(ValueError, match="not a multiple of K=8 and tail='error'"):
        ZeroInput(8, 512, tail="error")(torch.zeros(1, 9, dtype=torch.long))


@pytest.mark.slow
def test_import_holozero_stays_free_of_torch_and_of_the_oracles(tmp_path):
    code = (
        "import sys, holozero\n"
        "assert 'torch' not in sys.modules, 'import holozero imported torch'\n"
        "from holozero import ZeroInput, zero_input\n"
        "assert not {'hsl_embedding', 'hsl_embedding_zero'} & set(sys.modules), 'the runtime imported an oracle'\n"
        "print(zero_input(b'hello world', K=4, dim=128).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "torch.Size([1, 3, 128])"
