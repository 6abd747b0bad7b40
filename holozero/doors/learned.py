"""The standard learned door: a trainable byte embedding table."""

from __future__ import annotations

import torch
import torch.nn as nn

from ..specials import NUM_IDS
from .base import Door


class ByteEmbedDoor(Door):
    """nn.Embedding over the 259 ids at full width, shared by slots and stream. A slot is the
    mean of its K byte embeddings plus a learned offset per position in the slot, so the
    slot still knows the order of its bytes (a plain sum would not).
    Learned input parameters: 259·dim + K·dim."""

    name = "byte_embed"
    fixed = False

    def __init__(self, K: int = 8, dim: int = 512, tail: str = "pad"):
        super().__init__(K, dim, tail)
        self.embed = nn.Embedding(NUM_IDS, dim)
        self.slot_position = nn.Parameter(torch.zeros(K, dim))
        nn.init.normal_(self.slot_position)

    @property
    def feat_dim(self) -> int:
        return self.dim

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embed(ids.long())

    def lift_slots(self, slots: torch.Tensor) -> torch.Tensor:
        return (slots + self.slot_position).mean(dim=-2)

    def lift_stream(self, feats: torch.Tensor) -> torch.Tensor:
        return feats
