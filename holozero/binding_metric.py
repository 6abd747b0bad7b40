"""The binding gap as a torchmetrics Metric (DESIGN.md §5): caption bits per byte under
mismatched conditioning minus under matched conditioning, over the same caption bytes.

Two figures per variant, each with its own 95% t-interval over items (the items are the
independent units; a caption's bytes are not):

- ``binding_gap/<v>``: the gap pooled by bytes, Σ_i D_i / Σ_i n_i (D_i: item i's extra bits,
  n_i: its caption bytes) — the headline, like every bpb. Its interval ``.../low``, ``.../high``
  is that of a ratio of sums over items (the delta method: the residuals D_i − gap·n_i), so it
  is centred on the pooled point itself.
- ``binding_gap/<v>/item_mean``: the mean of the per-item gaps D_i / n_i (every item weighs
  the same), with ``.../item_mean/low``, ``.../item_mean/high``.

Short captions with large gaps and long ones with small gaps set the two apart; each point
stands inside its own interval. States are sums (reduced by summing, so items sharded over
processes count once).
"""

from __future__ import annotations

import math

import torch
from torchmetrics import Metric

from .specials import NUM_BYTES

BINDING_VARIANTS = ("both", "audio", "frame")  # which conditioning is swapped for a donor's
# per variant: D = an item's extra bits, n = its caption bytes, g = D / n
STATES = ("matched", "mismatched", "count", "items", "g_sum", "g_sq", "d_sq", "d_n", "n_sq")


def t_half(var: torch.Tensor, m: int) -> torch.Tensor:
    """Half-width of the two-sided 95% Student-t interval of a mean of ``m`` values of variance ``var``."""
    from scipy import stats

    return float(stats.t.ppf(0.975, m - 1)) * torch.sqrt(var.clamp_min(0) / m)


class BindingGap(Metric):
    """``update(variant, matched [B, S], mismatched [B, S], targets [B, S])`` takes per-target
    nats of the same captions; ``compute()`` gives ``binding_gap`` (variant ``both``, the
    headline) and per variant ``binding_gap/<v>`` with ``/low``, ``/high``, ``/items``,
    ``/item_mean``, ``/item_mean/low``, ``/item_mean/high`` (intervals from 2 items up)."""

    full_state_update = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        v = len(BINDING_VARIANTS)
        for name in STATES:
            dtype = torch.long if name in ("count", "items") else torch.float64
            self.add_state(name, default=torch.zeros(v, dtype=dtype), dist_reduce_fx="sum")

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
        self.items[i] += keep.sum()
        d, n = (swapped - base)[keep] / math.log(2), n[keep]
        g = d / n
        self.g_sum[i] += g.sum()
        self.g_sq[i] += (g * g).sum()
        self.d_sq[i] += (d * d).sum()
        self.d_n[i] += (d * n).sum()
        self.n_sq[i] += (n * n).sum()

    def compute(self) -> dict[str, torch.Tensor]:
        out = {}
        for i, name in enumerate(BINDING_VARIANTS):
            m, total = int(self.items[i]), self.count[i].to(torch.float64)
            if m == 0:
                continue
            key = f"binding_gap/{name}"
            gap = (self.mismatched[i] - self.matched[i]) / math.log(2) / total
            mean = self.g_sum[i] / m
            out[key], out[f"{key}/items"], out[f"{key}/item_mean"] = gap, self.items[i].to(torch.float64), mean
            if name == "both":
                out["binding_gap"] = gap
            if m > 1:
                # Σ (D_i − gap·n_i)² / (m − 1), the residual variance, over the mean bytes² per item
                resid = (self.d_sq[i] - 2 * gap * self.d_n[i] + gap * gap * self.n_sq[i]) / (m - 1)
                half = t_half(resid / (total / m) ** 2, m)
                out[f"{key}/low"], out[f"{key}/high"] = gap - half, gap + half
                half = t_half((self.g_sq[i] - m * mean * mean) / (m - 1), m)
                out[f"{key}/item_mean/low"], out[f"{key}/item_mean/high"] = mean - half, mean + half
        return out
