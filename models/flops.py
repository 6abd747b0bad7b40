"""Training FLOPs of a model on a data module's window layouts, counted on the meta device.

Shared by the run-facts callback (logging, throughput) and the budget callback (where the LR
schedule ends), so both see one figure. The figure is cached on the LightningModule as
``flops_per_batch``, the attribute Lightning's ThroughputMonitor reads.

The convention (stated beside every matched-budget table): forward + backward of one batch as
torch's FlopCounterMode counts them through Lightning's ``measure_flops`` — a multiply-add is
2 FLOPs, and attention is counted as its two full T×T products (QKᵀ and AV, no discount for
the causal mask, which the kernels do not skip on every backend). A mixture's expected
figure is the share-weighted mean over its window layouts; what a run actually spent adds
each batch's own layout (``flops_by_layout``).
"""

from __future__ import annotations

import copy

import torch
from lightning.fabric.utilities.throughput import measure_flops

CONVENTION = (
    "FLOPs are forward + backward of a training batch as torch's FlopCounterMode counts them (a "
    "multiply-add is 2 FLOPs; attention counted as its two full T×T products, no discount for the "
    "causal mask); a FLOPs budget stops at the whole step nearest it, and each run's FLOPs actually "
    "spent are logged as budget/flops"
)


def bytes_per_batch(shapes) -> float:
    """Input bytes of an average training batch: every position of every window, prefix + stream."""
    return sum(share * B * W for (B, W), _, share in shapes)


def flops_by_layout(net: torch.nn.Module, shapes) -> dict[tuple[int, int, int], int]:
    """{(B, window, stream_len): FLOPs of one training batch (forward + backward)} of ``net``
    for each window layout of ``shapes``."""
    with torch.device("meta"):
        meta = copy.deepcopy(net).to("meta")
    out = {}
    for (B, W), S, _ in shapes:
        if (B, W, S) not in out:
            ids = torch.zeros(B, W, dtype=torch.long, device="meta")
            out[B, W, S] = int(measure_flops(meta, lambda ids=ids, S=S: meta(ids, S)[0], loss_fn=torch.Tensor.sum))
    return out


def measure_flops_per_batch(net: torch.nn.Module, shapes) -> int | None:
    """FLOPs of one training batch (forward + backward) of ``net``; with several window layouts
    (a mixture), their average weighted by batch share. None when there are no shapes."""
    return expected_flops(flops_by_layout(net, shapes), shapes) if shapes else None


def expected_flops(table: dict, shapes) -> int:
    """The share-weighted mean of a layout table over a data module's batch shapes."""
    return int(sum(share * table[B, W, S] for (B, W), S, share in shapes))


def ensure_flops_per_batch(trainer, lm) -> int | None:
    """The module's ``flops_per_batch``, measured once on the trainer's data module layouts
    (``lm.flops_by_layout`` keeps each layout's own figure, for the FLOPs a run spent)."""
    if getattr(lm, "flops_per_batch", None) is None:
        shapes = getattr(trainer.datamodule, "batch_shapes", None)
        lm.flops_by_layout = flops_by_layout(lm.net, shapes) if shapes else {}
        lm.flops_per_batch = expected_flops(lm.flops_by_layout, shapes) if shapes else None
    return lm.flops_per_batch


def batch_flops(lm, batch: dict) -> float:
    """FLOPs of this training batch: its own layout's figure, or the expected one when the
    layout was not measured."""
    B, W = batch["ids"].shape
    table = getattr(lm, "flops_by_layout", None) or {}
    return float(table.get((B, W, batch["segment"].shape[1]), getattr(lm, "flops_per_batch", None) or 0))
