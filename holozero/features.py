"""Exact HSL byte features: ids [..., L] -> float32 [..., L, 27] (DESIGN.md §1).

Bit-identical to ``hsl_embedding.Embedding()(ids)`` on byte ids 0..255 (tests use that
package as the oracle; this module never imports it). Specials SEP/EOS/PAD get feature rows
no byte can have, and restart the causal context like the start of a sequence does.

How it is fast: every channel of byte i is a function of the pair (id[i-1], id[i]) except
``boundary``, which also reaches back to id[i-2]. So one row gather from a frozen
(260·259)×27 pair table gives 26 channels, and boundary is a second gather indexed by two
small integer codes, one from each of the pairs (i-1, i) and (i-2, i-1). The tables are
built once with the same float64→float32 arithmetic the definition uses, so no value is
re-derived in a different precision. No step reads a tensor value on the host, so the
forward runs under ``torch.compile(fullgraph=True)`` and in CUDA graphs.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn

from .specials import EOS, NUM_BYTES, NUM_IDS, PAD, SEP

FEAT_DIM = 27
VALUE_DIM = 18

# Channel groups as column indices into the 27 features (fixed addresses).
GROUPS: dict[str, tuple[int, ...]] = {
    "dxor": tuple(range(0, 8)),
    "d2xor": tuple(range(8, 16)),
    "boundary": (16,),
    "fourier": tuple(range(17, 25)),
    "phase": (25, 26),
}
GROUPS["value"] = GROUPS["dxor"] + GROUPS["fourier"] + GROUPS["phase"]
GROUPS["context"] = GROUPS["d2xor"] + GROUPS["boundary"]
BASE_GROUPS = ("dxor", "d2xor", "boundary", "fourier", "phase")
FEAT_NAMES = (
    [f"dxor{i}" for i in range(8)]
    + [f"d2xor{i}" for i in range(8)]
    + ["boundary"]
    + [f"fft_re{i}" for i in range(5)]
    + [f"fft_im{i}" for i in (1, 2, 3)]
    + ["phase_cos", "phase_sin"]
)

START = NUM_IDS  # virtual "previous id" of position 0: the anchor every sequence departs from
_NPREV = NUM_IDS + 1  # previous-id alphabet: 259 ids + START
_BOUNDARY_D2_WEIGHT = 0.5  # transition energy e = Δ + 0.5·Δ²
_HEAD_BITS, _TAIL_BITS = 5, 4  # window: last 4 bits of byte i-1 + first 5 bits of byte i
_TAIL_CODES = 2 * _TAIL_BITS + _TAIL_BITS + 1  # 2·tail energy is an integer in 0..12
_START_CODE = 16  # head codes 0..15 interior, 16..31 after START/special, 32 = a special itself
_SPECIAL_CODE = 32


def _bits(values: np.ndarray) -> np.ndarray:
    """[n] uint8 -> [n, 8] uint8, most significant bit first."""
    return np.unpackbits(values.astype(np.uint8)[:, None], axis=1)


def _gray(values: np.ndarray) -> np.ndarray:
    return values ^ (values >> 1)


def _byte_value_rows() -> np.ndarray:
    """The frozen 256×18 value table: Δ bits | exact rfft of the bits | phase, in float32."""
    v = np.arange(NUM_BYTES, dtype=np.uint8)
    dxor = _bits(_gray(v)).astype(np.float32)
    # rfft runs in float64 and is stored in float32, the definition's precision (its tiny
    # non-zero residues are part of the reference values, so they are kept, not cleaned).
    spec = np.fft.rfft(_bits(v).astype(np.float32), axis=1)
    fourier = np.concatenate([spec.real, spec.imag[:, 1:4]], axis=1).astype(np.float32)
    angle = v.astype(np.float32) / 256.0 * (2.0 * math.pi)  # float32, as defined
    phase = np.stack([np.cos(angle), np.sin(angle)], axis=1).astype(np.float32)
    return np.concatenate([dxor, fourier, phase], axis=1)


def _value_table() -> np.ndarray:
    """[259, 18]: bytes, then SEP/EOS/PAD. Specials have phase (0, 0), which no byte has
    (|phase| = 1 for every byte); fft_re0 = -1 / -2 / 0 tells them apart (a bit count is
    never negative). PAD is all zero, distinct from 0x00 whose phase_cos is 1."""
    table = np.zeros((NUM_IDS, VALUE_DIM), dtype=np.float32)
    table[:NUM_BYTES] = _byte_value_rows()
    table[SEP, 8] = -1.0
    table[EOS, 8] = -2.0
    table[PAD, :] = 0.0
    return table


VALUE_TABLE = _value_table()


def _pair_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables indexed by pair = prev_id·259 + id (prev_id = START at position 0).

    Returns (pair_rows [P, 27] with boundary left 0, packed boundary codes [P],
    boundary_values [33·13]).
    """
    prev = np.repeat(np.arange(_NPREV), NUM_IDS)
    cur = np.tile(np.arange(NUM_IDS), _NPREV)
    cur_special = cur >= NUM_BYTES
    restart = prev >= NUM_BYTES  # START or a special: the context restarts at the anchor 0
    g_cur = np.where(cur_special, 0, _gray(cur))
    g_prev = np.where(restart, 0, _gray(np.minimum(prev, NUM_BYTES - 1)))
    d2 = np.where(cur_special, 0, g_cur ^ g_prev)

    rows = np.zeros((prev.size, FEAT_DIM), dtype=np.float32)
    value = VALUE_TABLE[cur]
    rows[:, list(GROUPS["value"])] = value
    rows[:, list(GROUPS["d2xor"])] = _bits(d2)

    def popcount(x: np.ndarray) -> np.ndarray:
        return np.unpackbits(x.astype(np.uint8)[:, None], axis=1).sum(axis=1)

    # Twice the energy sums are integers: e = Δ + 0.5·Δ² with Δ, Δ² ∈ {0, 1}.
    head_mask, tail_mask = 0xF8, 0x0F  # first 5 bits (MSB side), last 4 bits
    head2 = 2 * popcount(g_cur & head_mask) + popcount(d2 & head_mask)
    tail2 = 2 * popcount(g_cur & tail_mask) + popcount(d2 & tail_mask)
    head_code = np.where(cur_special, _SPECIAL_CODE, np.where(restart, _START_CODE + head2, head2))
    tail_code = np.where(cur_special, 0, tail2)

    # Boundary = window mean, divided in float64 and stored in float32, as defined.
    boundary = np.zeros((_SPECIAL_CODE + 1, _TAIL_CODES), dtype=np.float32)
    h = np.arange(_START_CODE, dtype=np.float64)[:, None] * 0.5
    t = np.arange(_TAIL_CODES, dtype=np.float64)[None, :] * 0.5
    boundary[:_START_CODE] = ((h + t) / (_HEAD_BITS + _TAIL_BITS)).astype(np.float32)
    boundary[_START_CODE:_SPECIAL_CODE] = (h / _HEAD_BITS).astype(np.float32)  # window clipped at the start
    # One int32 per pair packs both codes (head·13 low, tail high): one gather serves both,
    # and the boundary index is low(pair i) + high(pair i-1).
    packed = head_code.astype(np.int64) * _TAIL_CODES + (tail_code.astype(np.int64) << 16)
    return rows, packed.astype(np.int32), boundary.reshape(-1)


class HSLFeatures(nn.Module):
    """Zero-parameter module form of :func:`hsl_features`; tables are non-persistent buffers,
    so they follow ``.to(device)`` and never enter a checkpoint."""

    def __init__(self):
        super().__init__()
        rows, codes, boundary = _pair_tables()
        self.register_buffer("pair_rows", torch.from_numpy(rows), persistent=False)
        self.register_buffer("pair_codes", torch.from_numpy(codes), persistent=False)
        self.register_buffer("boundary", torch.from_numpy(boundary), persistent=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        idx = ids.long()
        pair = idx + START * NUM_IDS  # position 0: the previous id is START
        pair[..., 1:] += idx[..., :-1] * NUM_IDS - START * NUM_IDS
        flat = pair.reshape(-1)
        # index_select on the flat index is several times faster than F.embedding on CPU.
        out = self.pair_rows.index_select(0, flat).view(*pair.shape, FEAT_DIM)
        packed = self.pair_codes.index_select(0, flat).view(pair.shape)
        code = packed & 0xFFFF
        code[..., 1:] += packed[..., :-1] >> 16  # position 0 restarts: its head code ignores the tail
        out[..., GROUPS["boundary"][0]] = self.boundary[code]
        return out


_MODULES: dict[torch.device, HSLFeatures] = {}


def hsl_features(ids: torch.Tensor) -> torch.Tensor:
    """Integer ids [..., L] (bytes 0..255, or SEP/EOS/PAD) -> float32 [..., L, 27].

    No range check here (that would synchronise): call
    :func:`holozero.specials.validate_ids` on untrusted input.
    """
    module = _MODULES.get(ids.device)
    if module is None:
        module = _MODULES[ids.device] = HSLFeatures().to(ids.device)
    return module(ids)


def value_table(dtype=torch.float32) -> torch.Tensor:
    """A copy of the frozen [259, 18] value table (dxor | fourier | phase), specials included."""
    return torch.from_numpy(VALUE_TABLE.copy()).to(dtype)


def invert_value_features(feats: torch.Tensor) -> torch.Tensor:
    """Exact inverse of the value channels: features [..., 27] -> ids [...].

    Bytes come back from Δ (the Gray code: a prefix XOR over its bits); specials are told
    apart by phase (0, 0) and fft_re0. Proves the features lose no byte.
    """
    bits = feats[..., list(GROUPS["dxor"])].round().long()
    weights = 1 << torch.arange(7, -1, -1, device=feats.device)
    value = (torch.cumsum(bits, dim=-1) % 2 * weights).sum(-1)  # bit k of v = XOR of Gray bits 0..k
    cos, sin = feats[..., GROUPS["phase"][0]], feats[..., GROUPS["phase"][1]]
    is_special = (cos == 0) & (sin == 0)
    re0 = feats[..., GROUPS["fourier"][0]]
    special = torch.where(re0 == -1, SEP, torch.where(re0 == -2, EOS, PAD))
    return torch.where(is_special, special, value)


def group_columns(groups) -> list[int]:
    """Sorted column indices for group names, e.g. ``group_columns(["dxor", "phase"])``."""
    names = [groups] if isinstance(groups, str) else list(groups)
    cols: set[int] = set()
    for g in names:
        if g not in GROUPS:
            raise ValueError(f"unknown feature group {g!r}; choose from {sorted(GROUPS)}")
        cols.update(GROUPS[g])
    return sorted(cols)
