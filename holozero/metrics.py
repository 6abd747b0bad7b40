"""Bits per byte, per segment (DESIGN.md §5), as a torchmetrics Metric.

bpb = Σ −log₂ p(target) / #targets over byte targets (0..255). SEP/EOS targets are trained
on but never enter bpb. States are sums (nats in float64, counts) reduced by summing across
processes, never by averaging per-process means.
"""

from __future__ import annotations

import math

import torch
from torchmetrics import Metric

from .segments import SEGMENTS
from .specials import NUM_BYTES


class BitsPerByte(Metric):
    """``update(nats [B, S], targets [B, S], segment [B, S])``; ``compute()`` returns
    ``{"bpb": ..., "<segment>_bpb": ..., "bytes_scored": ...}`` (segments that had byte targets)."""

    full_state_update = False
    higher_is_better = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        n = len(SEGMENTS)
        self.add_state("nats", default=torch.zeros(n, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.zeros(n, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, nats: torch.Tensor, targets: torch.Tensor, segment: torch.Tensor) -> None:
        is_byte = targets < NUM_BYTES
        seg = segment[is_byte]
        self.nats.index_add_(0, seg, nats[is_byte].to(torch.float64))
        self.count.index_add_(0, seg, torch.ones_like(seg))

    def compute(self) -> dict[str, torch.Tensor]:
        total = self.count.sum()
        out = {"bytes_scored": total.to(torch.float64)}  # synced like the rest (not the local count)
        if total > 0:
            out["bpb"] = self.nats.sum() / total / math.log(2)
        for i, name in enumerate(SEGMENTS):
            if self.count[i] > 0:
                out[f"{name}_bpb"] = self.nats[i] / self.count[i] / math.log(2)
        return out

    def byte_count(self) -> int:
        return int(self.count.sum())
