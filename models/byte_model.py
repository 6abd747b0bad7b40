"""Door + body as one plain nn.Module: byte windows in, next-byte logits and their loss out.

This is the unit that ``torch.compile`` wraps, that FLOPs are measured on, and that every
scorer (training, validation, probes, attribution, evaluation) calls.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import torch
import torch.nn as nn

from holozero.doors import Door
from holozero.losses import token_nats
from holozero.segments import CONDITIONED, SEGMENTS
from holozero.specials import PAD

from .decoder import Decoder
from .hub import HubMixin

PER_BYTE_TARGETS = ("segment", "all")
_CONDITIONED_CODES = tuple(SEGMENTS.index(s) for s in CONDITIONED)


class ByteModel(nn.Module, HubMixin):  # from_pretrained / save_pretrained / push_to_hub: models/hub.py
    """``forward(ids [B, W], stream_len=S, targets=None) -> (logits [B, T, 258], nats)``;
    ``nats`` [B, T] is the per-target loss of ``targets`` (None without targets).

    Packed (default): the first W-S bytes enter as K-byte slots, the last S as the per-byte
    stream (T = S); the window is featurized once, so context channels are continuous across
    the split. ``per_byte=True`` is the plain nanoGPT-style byte LM: no prefix, all W bytes
    in the stream. It is scored on the same last S bytes as the packed arms (T = S), and it
    *trains* on every position it computes (T = W-1, targets from ``training_targets``), so it
    learns from all it pays for in FLOPs. It reads every byte through the door's stream path,
    so the door's slot-only modules (a slot table, a slot projection) are dropped: the model
    holds, and counts, only parameters that train.
    """

    def __init__(self, door: Door, body: Decoder, per_byte: bool = False, per_byte_targets: str = "segment"):
        super().__init__()
        if door.dim != body.dim:
            raise ValueError(f"door dim {door.dim} != body dim {body.dim}")
        if per_byte_targets not in PER_BYTE_TARGETS:
            raise ValueError(f"per_byte_targets must be one of {PER_BYTE_TARGETS}, got {per_byte_targets!r}")
        self.door, self.body, self.per_byte = door, body, per_byte
        self.per_byte_targets = per_byte_targets
        if per_byte:
            door.drop_slot_path()
            self.register_load_state_dict_pre_hook(self._skip_legacy_slot_weights)

    def legacy_slot_keys(self, keys: Iterable[str], prefix: str = "") -> list[str]:
        """The keys of ``keys`` that are the slot-only tables of a per-byte model saved before
        they were dropped: never read by its forward, so they hold their initial values."""
        if self.door.has_slot_path:
            return []
        heads = tuple(f"{prefix}door.{name}." for name in self.door.slot_modules)
        return [k for k in keys if k.startswith(heads)]

    def _skip_legacy_slot_weights(self, module, state_dict, prefix, *args) -> None:
        """Load-time hook: an old per-byte checkpoint loads, its untrained slot tables left out."""
        legacy = self.legacy_slot_keys(list(state_dict), prefix)
        if legacy:
            skipped = ", ".join(legacy)
            warnings.warn(
                f"per-byte checkpoint: its never-trained slot tables are not loaded ({skipped})", stacklevel=1
            )
        for key in legacy:
            del state_dict[key]

    def parameter_counts(self) -> dict[str, int]:
        """Parameters that train: the door's learned input parameters, the body's, their total."""
        total = sum(p.numel() for p in self.parameters() if p.requires_grad)
        body = sum(p.numel() for p in self.body.parameters() if p.requires_grad)
        return {"learned_input": self.door.learned_parameters, "body": body, "total": total}

    def training_targets(self, ids: torch.Tensor, segment: torch.Tensor) -> torch.Tensor:
        """What a training step learns from. Packed: the S stream bytes. Per-byte: every
        position 1..W-1 whose byte belongs to what the window scores — all of a text, audio or
        frame continuation window; only the stream of a conditioned (captioned) window, whose
        frame and audio condition the caption but are not targets unless
        ``per_byte_targets="all"`` (they are PAD here, which the loss ignores)."""
        S = segment.shape[1]
        if not self.per_byte:
            return ids[:, ids.shape[1] - S :]
        targets = ids[:, 1:].clone()
        if self.per_byte_targets == "segment":
            conditioned = torch.isin(segment[:, 0], torch.tensor(_CONDITIONED_CODES, device=segment.device))
            n = targets.shape[1] - S  # the conditioning part; torch.where keeps this free of host syncs
            targets[:, :n] = torch.where(conditioned[:, None], PAD, targets[:, :n])
        return targets

    def forward(
        self, ids: torch.Tensor, stream_len: int, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.per_byte:
            stream = self.door.stream(ids)
            logits = self.body(stream[:, :0], stream)  # predicts bytes 1..W-1
            keep = stream_len if targets is None else targets.shape[1]  # S to score, W-1 to train
            logits = logits[:, logits.shape[1] - keep :]
        else:
            prefix, stream = self.door.split_window(ids, ids.shape[1] - stream_len)
            logits = self.body(prefix, stream)
        return logits, (None if targets is None else token_nats(logits, targets))
