"""Fixed, non-HSL doors: raw bits, one-hot bytes and minimal binary id codes (0 learned
parameters each). They are the geometry controls the HSL door is compared against."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..specials import NUM_BYTES, NUM_IDS
from .base import Door, draw_seed, with_special_flags


class _TableDoor(Door):
    """Per-id features from a fixed [259, F] table (no context channels). A table drawn at
    random is ``persistent``: it is saved with the model, so a checkpoint keeps its draw."""

    def __init__(self, K: int, dim: int, tail: str, table: torch.Tensor, persistent: bool = False):
        super().__init__(K, dim, tail)
        self.register_buffer("table", with_special_flags(table.float()), persistent=persistent)
        self.check_width()

    @property
    def feat_dim(self) -> int:
        return self.table.shape[1]

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids.long(), self.table)


def _bits_msb_first(values: torch.Tensor, width: int) -> torch.Tensor:
    shifts = torch.arange(width - 1, -1, -1)
    return (values[:, None] >> shifts) & 1


class RawBitsDoor(_TableDoor):
    """The 8 raw bits of each byte (MSB first), zero-padded; two flag channels mark SEP/EOS/PAD
    (a PAD would otherwise look like 0x00). The minimal pair for Δ: same information, no Gray
    geometry."""

    name = "raw_bits"

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad"):
        table = torch.zeros(NUM_IDS, 8)
        table[:NUM_BYTES] = _bits_msb_first(torch.arange(NUM_BYTES), 8).float()
        super().__init__(K, dim, tail, table)


class OneHotDoor(_TableDoor):
    """One-hot ids (256 bytes + SEP/EOS/PAD = 259 channels), zero-padded (Shaham & Levy).
    Needs dim ≥ 259·K."""

    name = "onehot"

    def __init__(self, K: int = 1, dim: int = 512, tail: str = "pad"):
        super().__init__(K, dim, tail, torch.eye(NUM_IDS))


CODE_BITS = math.ceil(math.log2(NUM_IDS))  # 9: the fewest bits that name every id


def minimal_codes() -> torch.Tensor:
    """[259, 9] bits in {0, 1}: the id in binary, MSB first."""
    return _bits_msb_first(torch.arange(NUM_IDS), CODE_BITS).float()


def affine_codes(seed: int) -> torch.Tensor:
    """[259, 9] bits: the minimal codes through a seeded invertible affine map A·bits ⊕ c over GF(2)^9."""
    g = torch.Generator().manual_seed(seed)
    every = _bits_msb_first(torch.arange(2**CODE_BITS), CODE_BITS)
    while True:  # draw until A is invertible: then the map is a bijection of all 512 codes
        A = torch.randint(0, 2, (CODE_BITS, CODE_BITS), generator=g)
        c = torch.randint(0, 2, (CODE_BITS,), generator=g)
        coded = (every @ A.T + c) % 2
        if torch.unique(coded, dim=0).shape[0] == 2**CODE_BITS:
            return coded[:NUM_IDS].float()


class BinaryCodesDoor(_TableDoor):
    """Fixed minimal binary codes of the id (9 bits as ±1), tiled to model width instead of
    zero-padded (arXiv 2605.09751). Slots tile the K concatenated codes."""

    name = "binary_codes"

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad"):
        super().__init__(K, dim, tail, 2.0 * minimal_codes() - 1.0)

    @staticmethod
    def _tile(x: torch.Tensor, dim: int) -> torch.Tensor:
        reps = -(-dim // x.shape[-1])
        return x.repeat(*([1] * (x.dim() - 1)), reps)[..., :dim]

    def lift_slots(self, slots: torch.Tensor) -> torch.Tensor:
        return self._tile(slots.flatten(-2), self.dim)

    def lift_stream(self, feats: torch.Tensor) -> torch.Tensor:
        return self._tile(feats, self.dim)


class AffineBinaryCodesDoor(BinaryCodesDoor):
    """The binary codes re-coded by a fixed, seeded invertible affine map over GF(2)^9
    (code = A·bits ⊕ c): same information and width, scrambled code geometry. The map is
    drawn from ``table_seed`` (None: the run's seed, see ``draw_seed``)."""

    name = "binary_codes_affine"

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad", table_seed: int | None = None):
        seed = draw_seed(table_seed)
        # the table is the only difference from BinaryCodesDoor: build the table door directly
        _TableDoor.__init__(self, K, dim, tail, 2.0 * affine_codes(seed) - 1.0, persistent=True)
        self.register_buffer("table_seed", torch.tensor(seed))
