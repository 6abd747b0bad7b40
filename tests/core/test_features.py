import subprocess
import sys

import pytest
import torch
from hsl_embedding import ablation

from holozero.features import (
    FEAT_DIM,
    FEAT_NAMES,
    GROUPS,
    group_columns,
    hsl_features,
    invert_value_features,
    value_table,
)
from holozero.specials import EOS, PAD, SEP, validate_ids

MIXED_SHAPES = [(1,), (2,), (7,), (3, 1), (4, 33), (2, 3, 50), (5, 2, 2, 17), (1, 1000), (8, 512)]


def test_bit_identical_on_random_ids_of_mixed_shapes(oracle, gen):
    total = 0
    for shape in MIXED_SHAPES:
        for dtype in (torch.uint8, torch.int32, torch.int64):
            ids = torch.randint(0, 256, shape, generator=gen).to(dtype)
            assert torch.equal(hsl_features(ids), oracle(ids)), (shape, dtype)
            total += ids.numel()
    assert total >= 10_000


@pytest.mark.parametrize(
    "ids",
    [
        torch.tensor([0]),
        torch.tensor([255]),
        torch.tensor([0x41]),
        torch.zeros(300, dtype=torch.long),
        torch.full((300,), 255),
        torch.tensor([0x00, 0xFF] * 150),
        torch.tensor([0x55, 0xAA] * 150),
        torch.arange(256),
        torch.arange(255, -1, -1),
    ],
    ids=["L1-0x00", "L1-0xFF", "L1-A", "all-0x00", "all-0xFF", "alt-00FF", "alt-55AA", "ramp", "ramp-down"],
)
def test_bit_identical_edge_cases(oracle, ids):
    assert torch.equal(hsl_features(ids), oracle(ids))
    assert torch.equal(hsl_features(ids[None]), oracle(ids[None]))


def test_bit_identical_long_sequence(oracle, gen):
    ids = torch.randint(0, 256, (70_000,), generator=gen)
    assert torch.equal(hsl_features(ids), oracle(ids))


def test_every_byte_pair_and_triple_context(oracle):
    # every (prev, cur) pair appears, so every pair-table row is checked against the oracle
    a = torch.arange(256).repeat_interleave(256)
    b = torch.arange(256).repeat(256)
    ids = torch.stack([a, b], dim=1).reshape(-1)
    assert torch.equal(hsl_features(ids), oracle(ids))


def test_non_contiguous_input(oracle, gen):
    ids = torch.randint(0, 256, (16, 64), generator=gen)
    for view in (ids[:, ::3], ids.t(), ids[3:9, 5:40]):
        assert torch.equal(hsl_features(view), oracle(view))


def test_empty_length():
    assert hsl_features(torch.zeros(3, 0, dtype=torch.long)).shape == (3, 0, FEAT_DIM)


def test_runs_under_fullgraph_compile(oracle, gen):
    # fullgraph=True fails on any graph break: .item(), int(tensor), data-dependent branching
    compiled = torch.compile(hsl_features, fullgraph=True, backend="eager", dynamic=False)
    ids = torch.randint(0, 256, (4, 100), generator=gen)
    assert torch.equal(compiled(ids), oracle(ids))


def test_groups_match_the_reference_layout():
    ref = ablation.feature_groups()
    for name in ("dxor", "d2xor", "boundary", "fourier", "phase", "value", "context"):
        assert sorted(GROUPS[name]) == sorted(ref[name]), name
    assert len(FEAT_NAMES) == FEAT_DIM
    assert group_columns(["phase", "boundary"]) == [16, 25, 26]
    with pytest.raises(ValueError, match="unknown feature group 'bits'"):
        group_columns(["bits"])


def test_value_table_matches_reference_lut():
    assert torch.equal(value_table()[:256], torch.from_numpy(ablation.value_lut()))


def test_inverse_recovers_every_byte_and_special(gen):
    ids = torch.cat([torch.arange(256), torch.tensor([SEP, EOS, PAD])])
    assert torch.equal(invert_value_features(hsl_features(ids)), ids)
    mixed = torch.randint(0, 259, (5, 300), generator=gen)
    assert torch.equal(invert_value_features(hsl_features(mixed)), mixed)


def test_specials_are_distinct_from_bytes_and_each_other(gen):
    # any context: put every id after a random prefix
    prefix = torch.randint(0, 256, (259, 5), generator=gen)
    ids = torch.cat([prefix, torch.arange(259)[:, None]], dim=1)
    last = hsl_features(ids)[:, -1]
    assert torch.unique(last, dim=0).shape[0] == 259
    pad = hsl_features(torch.tensor([PAD]))[0]
    zero = hsl_features(torch.tensor([0]))[0]
    assert torch.count_nonzero(pad) == 0 and zero[GROUPS["phase"][0]] == 1.0


def test_special_restarts_the_causal_context(gen):
    a = torch.randint(0, 256, (40,), generator=gen)
    b = torch.randint(0, 256, (30,), generator=gen)
    for special in (SEP, EOS, PAD):
        window = torch.cat([a, torch.tensor([special]), b])
        assert torch.equal(hsl_features(window)[41:], hsl_features(b))
    # without a special the context carries over: the first bytes differ
    assert not torch.equal(hsl_features(torch.cat([a, b]))[40:], hsl_features(b))


def test_validate_ids_names_the_problem():
    validate_ids(torch.tensor([0, 255, SEP, EOS, PAD]))
    with pytest.raises(ValueError, match="found 300 at index"):
        validate_ids(torch.tensor([1, 300]))
    with pytest.raises(ValueError, match="0..255"):
        validate_ids(torch.tensor([SEP]), allow_specials=False)
    with pytest.raises(ValueError, match="found -1"):
        validate_ids(torch.tensor([[3, -1]]), name="prefix_ids")
    with pytest.raises(TypeError, match="integer ids"):
        validate_ids(torch.tensor([0.5]))


@pytest.mark.slow
def test_runtime_never_imports_the_oracle():
    code = "import sys, holozero.features, holozero.doors; assert 'hsl_embedding' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
