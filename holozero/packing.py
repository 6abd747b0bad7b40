"""K bytes per attention slot, with an explicit tail policy (DESIGN.md §2).

A prefix of L positions fills ceil(L/K) slots under ``pad`` (the last slot is completed
with PAD, an input-only id distinct from byte 0x00), floor(L/K) under ``drop`` (the *oldest*
L mod K positions, at the left end, are discarded and counted, so the prefix stays contiguous
with the stream that follows it), and raises under ``error`` unless K divides L.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from .specials import PAD

TAIL_POLICIES = ("pad", "drop", "error")


class Packed(NamedTuple):
    slots: torch.Tensor  # [B, N, K, ...]
    dropped: int  # positions discarded per row under "drop" (0 otherwise)


def check_tail(tail: str) -> str:
    if tail not in TAIL_POLICIES:
        raise ValueError(f"tail must be one of {TAIL_POLICIES}, got {tail!r}")
    return tail


def tail_counts(length: int, K: int, tail: str) -> tuple[int, int]:
    """(positions to pad, positions to drop) for a prefix of ``length`` positions.

    Shapes are static, so this never reads a tensor value."""
    rest = length % K
    if rest == 0:
        return 0, 0
    if tail == "pad":
        return K - rest, 0
    if tail == "drop":
        return 0, rest
    raise ValueError(
        f"prefix length {length} is not a multiple of K={K} and tail='error'; "
        f"use tail='pad' (adds {K - rest} PAD) or tail='drop' (drops {rest} bytes)"
    )


def pack_ids(ids: torch.Tensor, K: int, tail: str = "pad") -> Packed:
    """[B, L] ids -> Packed([B, N, K] ids, dropped)."""
    n_pad, n_drop = tail_counts(ids.shape[-1], K, check_tail(tail))
    if n_pad:
        ids = F.pad(ids, (0, n_pad), value=PAD)
    if n_drop:  # the oldest bytes go: what is kept still ends right before the stream
        ids = ids[..., n_drop:]
    return Packed(ids.reshape(*ids.shape[:-1], -1, K), n_drop)


def unpack_ids(slots: torch.Tensor) -> list[list[int]]:
    """[B, N, K] packed ids -> one list of ids per row with the tail PADs removed (for tests
    and inspection; reads values on the host)."""
    rows = slots.reshape(slots.shape[0], -1).tolist()
    out = []
    for row in rows:
        while row and row[-1] == PAD:
            row.pop()
        out.append(row)
    return out
