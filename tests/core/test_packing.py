import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from holozero.doors import ZeroDoor
from holozero.features import FEAT_DIM, invert_value_features
from holozero.packing import pack_ids, tail_counts, unpack_ids
from holozero.specials import PAD

lengths = st.integers(min_value=1, max_value=300)
slot_sizes = st.integers(min_value=1, max_value=18)


def _ids(L, seed):
    return torch.randint(0, 256, (2, L), generator=torch.Generator().manual_seed(seed))


@settings(max_examples=300, deadline=None)
@given(L=lengths, K=slot_sizes, seed=st.integers(0, 2**16))
def test_pad_packing_returns_every_byte(L, K, seed):
    ids = _ids(L, seed)
    packed = pack_ids(ids, K, "pad")
    assert packed.slots.shape == (2, -(-L // K), K) and packed.dropped == 0
    assert unpack_ids(packed.slots) == ids.tolist()


@settings(max_examples=300, deadline=None)
@given(L=lengths, K=slot_sizes, seed=st.integers(0, 2**16))
def test_drop_drops_exactly_L_mod_K(L, K, seed):
    ids = _ids(L, seed)
    packed = pack_ids(ids, K, "drop")
    assert packed.dropped == L % K
    assert packed.slots.shape == (2, L // K, K)
    # the oldest L mod K bytes go: what is kept is the newest, ending where the prefix ends
    assert packed.slots.reshape(2, -1).tolist() == ids[:, L % K :].tolist()


@settings(max_examples=200, deadline=None)
@given(L=lengths, K=slot_sizes, seed=st.integers(0, 2**16))
def test_zero_door_slots_invert_to_every_byte(L, K, seed):
    """Through the real door: features -> slots -> inverse of the value channels -> bytes."""
    ids = _ids(L, seed)
    door = ZeroDoor(K=K, dim=512)
    slots = door(ids)
    assert slots.shape == (2, -(-L // K), 512)
    per_byte = slots[..., : K * FEAT_DIM].reshape(2, -1, FEAT_DIM)
    recovered = invert_value_features(per_byte)
    assert recovered[:, :L].tolist() == ids.tolist()
    assert (recovered[:, L:] == PAD).all()


@settings(max_examples=200, deadline=None)
@given(L=lengths, K=slot_sizes, seed=st.integers(0, 2**16))
def test_zero_door_drop_counts(L, K, seed):
    door = ZeroDoor(K=K, dim=512, tail="drop")
    ids = _ids(L, seed)
    out = door(ids)
    assert out.shape[1] == L // K
    assert door.dropped_bytes == 2 * (L % K)
    kept = invert_value_features(out[..., : K * FEAT_DIM].reshape(2, -1, FEAT_DIM))
    assert kept.tolist() == ids[:, L % K :].tolist()  # the newest bytes, contiguous with a stream after them


def test_drop_keeps_the_prefix_contiguous_with_the_stream():
    """split_window under tail="drop": the last kept prefix byte is the one right before stream byte 0."""
    door = ZeroDoor(K=4, dim=512, tail="drop")
    ids = torch.arange(10, 40).unsqueeze(0)  # prefix 0..13 (14 bytes: 2 dropped), stream 14..29
    slots, _ = door.split_window(ids, 14)
    kept = invert_value_features(slots[..., : 4 * FEAT_DIM].reshape(1, -1, FEAT_DIM))
    assert kept.tolist() == [list(range(12, 24))] and door.dropped_bytes == 2


def test_error_policy_names_the_lengths():
    with pytest.raises(ValueError, match="prefix length 10 is not a multiple of K=4"):
        ZeroDoor(K=4, dim=512, tail="error")(torch.zeros(1, 10, dtype=torch.long))
    assert ZeroDoor(K=5, dim=512, tail="error")(torch.zeros(1, 10, dtype=torch.long)).shape == (1, 2, 512)
    with pytest.raises(ValueError, match="tail must be one of"):
        ZeroDoor(K=4, dim=512, tail="truncate")
    assert tail_counts(10, 4, "pad") == (2, 0) and tail_counts(10, 4, "drop") == (0, 2)
