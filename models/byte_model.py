"""Door + body as one plain nn.Module: byte windows in, next-byte logits and their loss out.

This is the unit that ``torch.compile`` wraps, that FLOPs are measured on, and that every
scorer (training, validation, probes, attribution, evaluation) calls.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from holozero.doors import Door
from holozero.losses import token_nats

from .decoder import Decoder


class ByteModel(nn.Module):
    """``forward(ids [B, C+S], stream_len=S, targets=None) -> (logits [B, S, 258], nats)``
    for the last S bytes; ``nats`` [B, S] is the per-target loss of ``targets`` (None without).

    Packed (default): the first C bytes enter as K-byte slots, the last S as the per-byte
    stream; the window is featurized once, so context channels are continuous across the
    split. ``per_byte=True`` is the plain byte-LM baseline: no prefix, all C+S bytes in the
    stream, and the same last S bytes scored, so bpb compares like for like.
    """

    def __init__(self, door: Door, body: Decoder, per_byte: bool = False):
        super().__init__()
        if door.dim != body.dim:
            raise ValueError(f"door dim {door.dim} != body dim {body.dim}")
        self.door, self.body, self.per_byte = door, body, per_byte

    def forward(
        self, ids: torch.Tensor, stream_len: int, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.per_byte:
            stream = self.door.stream(ids)
            logits = self.body(stream[:, :0], stream)  # predicts bytes 1..W-1
            logits = logits[:, logits.shape[1] - stream_len :]
        else:
            prefix, stream = self.door.split_window(ids, ids.shape[1] - stream_len)
            logits = self.body(prefix, stream)
        return logits, (None if targets is None else token_nats(logits, targets))
