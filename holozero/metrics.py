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


BINDING_VARIANTS = ("both", "audio", "frame")  # which conditioning is swapped for a donor's


class BindingGap(Metric):
    """Caption bpb under mismatched conditioning minus caption bpb under matched
    conditioning, over the same caption bytes (DESIGN.md §5), per variant (``both``, ``audio``,
    ``frame``: what is swapped). Each variant has its own items (those that have the parts it
    swaps), so its matched and mismatched sums are kept apart.

    ``update(variant, matched [B, S], mismatched [B, S], targets [B, S])`` takes per-target
    nats. States are sums (reduced by summing, so items sharded over processes count once):
    nats, byte counts, and per-item gap sums and squares for a t-interval over items.
    ``compute()`` gives ``binding_gap`` (variant ``both``, the headline), and per variant
    ``binding_gap/<v>``, the mean per-item gap ``.../item_mean`` with its 95% interval
    (``.../low``, ``.../high``) and ``.../items``.
    """

    full_state_update = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        v = len(BINDING_VARIANTS)
        self.add_state("matched", default=torch.zeros(v, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("mismatched", default=torch.zeros(v, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.zeros(v, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("item_sum", default=torch.zeros(v, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("item_sq", default=torch.zeros(v, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("items", default=torch.zeros(v, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, variant: str, matched: torch.Tensor, mismatched: torch.Tensor, targets: torch.Tensor) -> None:
        i = BINDING_VARIANTS.index(variant)
        is_byte = (targets < NUM_BYTES).to(torch.float64)
        n = is_byte.sum(-1)  # caption bytes per item
        keep = n > 0
        base = (matched.to(torch.float64) * is_byte).sum(-1)
        swapped = (mismatched.to(torch.float64) * is_byte).sum(-1)
        self.matched[i] += base.sum()
        self.mismatched[i] += swapped.sum()
        self.count[i] += n.sum().long()
        gap = (swapped - base)[keep] / n[keep] / math.log(2)
        self.item_sum[i] += gap.sum()
        self.item_sq[i] += (gap * gap).sum()
        self.items[i] += keep.sum()

    def compute(self) -> dict[str, torch.Tensor]:
        from scipy import stats

        out = {}
        for i, name in enumerate(BINDING_VARIANTS):
            n = int(self.items[i])
            if n == 0 or self.count[i] == 0:
                continue
            gap = (self.mismatched[i] - self.matched[i]) / self.count[i] / math.log(2)
            if name == "both":
                out["binding_gap"] = gap
            out[f"binding_gap/{name}"] = gap
            out[f"binding_gap/{name}/items"] = self.items[i].to(torch.float64)
            mean = self.item_sum[i] / n
            out[f"binding_gap/{name}/item_mean"] = mean
            if n > 1:
                var = (self.item_sq[i] - n * mean * mean) / (n - 1)
                half = float(stats.t.ppf(0.975, n - 1)) * torch.sqrt(var.clamp_min(0) / n)
                out[f"binding_gap/{name}/low"], out[f"binding_gap/{name}/high"] = mean - half, mean + half
        return out
