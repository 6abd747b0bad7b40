"""The one loss of the project: per-target negative log-likelihood, and what is derived from it.

Training, validation, probes, attribution and evaluation all score bytes through these, so a
bpb means the same thing wherever it is printed. PAD is never a target (its nats are 0 and
it is not counted); SEP/EOS are targets of the loss but never bytes of a bpb.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .specials import NUM_BYTES, NUM_CLASSES, PAD

LN2 = math.log(2)


def token_nats(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-target negative log-likelihood in nats [..., T], computed in float32; 0 at PAD."""
    nats = F.cross_entropy(
        logits.float().reshape(-1, NUM_CLASSES), targets.reshape(-1), reduction="none", ignore_index=PAD
    )
    return nats.view(targets.shape)


def mean_loss(nats: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean nats over every target that is not PAD (bytes, SEP and EOS)."""
    is_target = targets != PAD
    return (nats * is_target).sum() / is_target.sum().clamp_min(1)


def byte_bpb(nats: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Bits per byte over the byte targets (0..255) of a whole batch."""
    is_byte = targets < NUM_BYTES
    return (nats * is_byte).sum() / is_byte.sum().clamp_min(1) / LN2


def window_bpb(nats: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Bits per byte of each window [B] over its own byte targets (probes, attribution)."""
    is_byte = targets < NUM_BYTES
    return (nats * is_byte).sum(-1) / is_byte.sum(-1).clamp_min(1) / LN2
