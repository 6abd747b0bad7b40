"""Doors built on the HSL features: the zero door, its channel ablations, the value-geometry
controls (random, permuted, learned value table) and the learned projection.

The controls keep HSL's exact context channels (Δ², boundary) and the 27-column layout and
swap only the 18 value channels, so they isolate the value geometry.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..features import BASE_GROUPS, FEAT_DIM, GROUPS, VALUE_DIM, group_columns, hsl_features, value_table
from ..specials import NUM_BYTES
from .base import Door, draw_seed, with_special_flags

_DXOR = len(GROUPS["dxor"])  # value table column order: dxor | fourier | phase
_CONTEXT = slice(GROUPS["context"][0], GROUPS["context"][-1] + 1)


class ZeroDoor(Door):
    """HSL features, K·27 channels at fixed addresses, zero-padded to dim: 0 learned parameters."""

    name = "zero"
    hsl_layout = True

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad"):
        super().__init__(K, dim, tail)
        self.check_width()

    @property
    def feat_dim(self) -> int:
        return FEAT_DIM

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        return hsl_features(ids)


class ZeroGroupsDoor(Door):
    """The zero door restricted to chosen feature groups (channel ablation), e.g.
    ``groups=["dxor", "fourier", "phase"]``. When the kept channels cannot tell SEP/EOS/PAD
    apart from every byte, two fixed flag channels are appended."""

    name = "zero_groups"
    default_groups: tuple[str, ...] = BASE_GROUPS

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad", groups: list[str] | None = None):
        super().__init__(K, dim, tail)
        self.groups = tuple(groups) if groups is not None else self.default_groups
        cols = group_columns(self.groups)
        if not cols:
            raise ValueError("groups must name at least one feature group")
        self.register_buffer("columns", torch.tensor(cols), persistent=False)
        # Whether specials stay distinct depends only on the kept value channels (a byte's
        # context channels can be zero, exactly like a special's).
        value_cols = [i for i, c in enumerate(GROUPS["value"]) if c in cols]
        kept_values = value_table()[:, value_cols]
        flags = with_special_flags(kept_values)[:, len(value_cols) :]
        self.register_buffer("flags", flags, persistent=False)
        self.check_width()

    @property
    def feat_dim(self) -> int:
        return self.columns.numel() + self.flags.shape[1]

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        feats = hsl_features(ids).index_select(-1, self.columns)
        if self.flags.shape[1]:
            feats = torch.cat([feats, F.embedding(ids.long(), self.flags)], dim=-1)
        return feats

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, groups={list(self.groups)}"


class _ValueSwapDoor(Door):
    """HSL layout with the 18 value channels read from another [259, 18] table; specials
    keep their HSL rows (phase (0, 0), which the swapped byte rows are checked against)."""

    hsl_layout = True

    def __init__(self, K: int, dim: int, tail: str):
        super().__init__(K, dim, tail)

    @property
    def feat_dim(self) -> int:
        return FEAT_DIM

    def value_rows(self) -> torch.Tensor:
        raise NotImplementedError

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        context = hsl_features(ids)[..., _CONTEXT]
        value = F.embedding(ids.long(), self.value_rows())
        return torch.cat([value[..., :_DXOR], context, value[..., _DXOR:]], dim=-1)


def _fixed_swap_table(byte_rows: torch.Tensor, door: str) -> torch.Tensor:
    table = value_table()
    table[:NUM_BYTES] = byte_rows
    if torch.unique(table[:NUM_BYTES], dim=0).shape[0] != NUM_BYTES:
        raise RuntimeError(f"{door}: value table is not injective; choose another seed")
    if with_special_flags(table).shape[1] != VALUE_DIM:
        raise RuntimeError(f"{door}: a byte row collides with a special row; choose another seed")
    return table


class RandomDoor(_ValueSwapDoor):
    """Fixed random injective value table with HSL's per-channel mean and std: tests whether
    information preservation alone (without HSL's geometry) is enough. 0 learned parameters.
    Drawn from ``table_seed`` (None: the run's seed, see ``draw_seed``)."""

    name = "random"

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad", table_seed: int | None = None):
        super().__init__(K, dim, tail)
        seed = draw_seed(table_seed)
        hsl_rows = value_table()[:NUM_BYTES].double()
        z = torch.randn(NUM_BYTES, VALUE_DIM, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        z = (z - z.mean(0)) / z.std(0, correction=0)  # exact sample moments before rescaling
        rows = (z * hsl_rows.std(0, correction=0) + hsl_rows.mean(0)).float()
        self.register_buffer("table", _fixed_swap_table(rows, "random"))
        self.register_buffer("table_seed", torch.tensor(seed))
        self.check_width()

    def value_rows(self) -> torch.Tensor:
        return self.table


class PermutedDoor(_ValueSwapDoor):
    """HSL's own value rows permuted over byte values: per-channel marginals identical,
    value-adjacency geometry destroyed. 0 learned parameters. The permutation is drawn from
    ``table_seed`` (None: the run's seed, see ``draw_seed``)."""

    name = "permuted"

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad", table_seed: int | None = None):
        super().__init__(K, dim, tail)
        seed = draw_seed(table_seed)
        perm = torch.randperm(NUM_BYTES, generator=torch.Generator().manual_seed(seed))
        self.register_buffer("permutation", perm)
        self.register_buffer("table", _fixed_swap_table(value_table()[:NUM_BYTES][perm], "permuted"))
        self.register_buffer("table_seed", torch.tensor(seed))
        self.check_width()

    def value_rows(self) -> torch.Tensor:
        return self.table


class LearnedValueDoor(_ValueSwapDoor):
    """Trainable 256×18 value table (4,608 parameters) with HSL's exact context channels and
    fixed special rows: can SGD find an equal or better per-value geometry? ``init="random"``
    draws the start from ``table_seed`` (None: the run's seed); ``init="hsl"`` starts at HSL."""

    name = "learned_value"
    fixed = True  # still zero-padded: only the value table learns

    def __init__(
        self, K: int = 8, dim: int = 512, tail: str = "pad", table_seed: int | None = None, init: str = "random"
    ):
        super().__init__(K, dim, tail)
        seed = draw_seed(table_seed)
        if init == "random":
            rows = torch.randn(NUM_BYTES, VALUE_DIM, generator=torch.Generator().manual_seed(seed))
        elif init == "hsl":
            rows = value_table()[:NUM_BYTES]
        else:
            raise ValueError(f"init must be 'random' or 'hsl', got {init!r}")
        self.init = init
        self.value = nn.Parameter(rows)
        self.register_buffer("special_rows", value_table()[NUM_BYTES:], persistent=False)
        self.register_buffer("table_seed", torch.tensor(seed))
        self.check_width()

    def value_rows(self) -> torch.Tensor:
        return torch.cat([self.value, self.special_rows], dim=0)


class HSLProjDoor(Door):
    """Learned Linear over the same HSL features: K·27 -> dim for slots, 27 -> dim for the
    stream (≈ K·27·dim learned input parameters)."""

    name = "hsl_proj"
    fixed = False
    hsl_layout = True
    slot_modules = ("slot_proj",)

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad"):
        super().__init__(K, dim, tail)
        self.slot_proj = nn.Linear(K * FEAT_DIM, dim)
        self.stream_proj = nn.Linear(FEAT_DIM, dim)

    @property
    def feat_dim(self) -> int:
        return FEAT_DIM

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        return hsl_features(ids)

    def lift_slots(self, slots: torch.Tensor) -> torch.Tensor:
        return self.slot_proj(slots.flatten(-2))

    def lift_stream(self, feats: torch.Tensor) -> torch.Tensor:
        return self.stream_proj(feats)
