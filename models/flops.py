"""Training FLOPs of a model on a data module's window layouts, counted on the meta device.

Shared by the run-facts callback (logging, throughput) and the budget callback (where the LR
schedule ends), so both see one figure. The figure is cached on the LightningModule as
``flops_per_batch``, the attribute Lightning's ThroughputMonitor reads.
"""

from __future__ import annotations

import copy

import torch
from lightning.fabric.utilities.throughput import measure_flops


def bytes_per_batch(shapes) -> float:
    """Input bytes of an average training batch: every position of every window, prefix + stream."""
    return sum(share * B * W for (B, W), _, share in shapes)


def measure_flops_per_batch(net: torch.nn.Module, shapes) -> int | None:
    """FLOPs of one training batch (forward + backward) of ``net``; with several window layouts
    (a mixture), their average weighted by batch share. None when there are no shapes."""
    if not shapes:
        return None
    with torch.device("meta"):
        meta = copy.deepcopy(net).to("meta")
    total = 0.0
    for (B, W), S, share in shapes:
        ids = torch.zeros(B, W, dtype=torch.long, device="meta")
        total += share * measure_flops(meta, lambda ids=ids, S=S: meta(ids, S)[0], loss_fn=torch.Tensor.sum)
    return int(total)


def ensure_flops_per_batch(trainer, lm) -> int | None:
    """The module's ``flops_per_batch``, measured once on the trainer's data module layouts."""
    if getattr(lm, "flops_per_batch", None) is None:
        shapes = getattr(trainer.datamodule, "batch_shapes", None)
        lm.flops_per_batch = measure_flops_per_batch(lm.net, shapes)
    return lm.flops_per_batch
