"""What the layers promise each other, as typed protocols (no imports from above).

The core algorithms (binding gap, probes, attribution, evaluation) take window sources and
a scorer by these shapes; models and callbacks read a data module only through
``WindowData``. Nothing here is implemented: ``datamodules`` and ``models`` provide them.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch


@runtime_checkable
class WindowSource(Protocol):
    """Cuts byte windows of one kind (see ``datamodules.sources``)."""

    segment: str
    stream_len: int

    def sample(self, rng: np.random.Generator, n: int) -> dict: ...

    def fixed_count(self, budget_bytes: int) -> int: ...

    def fixed(self, i: int, count: int) -> dict: ...


@runtime_checkable
class CaptionWindows(WindowSource, Protocol):
    """Captioned items: prefix ``[frame] SEP [audio] SEP``, stream ``[caption] EOS`` then PAD.

    ``labels`` is an object array: an item's class, or None where the data gives none."""

    prefix: np.ndarray
    stream: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int: ...

    def conditioned(
        self, items, captions=None, frame_from=None, audio_from=None, frame_fill=None, audio_fill=None
    ) -> dict: ...

    def has_part(self, part: str) -> np.ndarray: ...


@runtime_checkable
class SequenceWindows(WindowSource, Protocol):
    """Continuation windows inside items (recordings, clips) at aligned starts."""

    items: list
    window: int
    align: int

    @property
    def total(self) -> int: ...

    def locate(self, j: int) -> tuple[int, int]: ...


@runtime_checkable
class StreamWindows(WindowSource, Protocol):
    """Windows anywhere in one id stream (a split of documents joined by EOS)."""

    stream: np.ndarray
    context: int


class WindowModel(Protocol):
    """A door + body (``models.ByteModel``): ``forward(ids [B, W], stream_len, targets)`` gives
    logits and per-target nats for the stream (or, with no prefix slot, for ids[1:])."""

    door: torch.nn.Module
    per_byte: bool

    def __call__(
        self, ids: torch.Tensor, stream_len: int, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]: ...


class Scorer(Protocol):
    """Scores a batch in eval mode: per-target nats [B, S] and the targets [B, S] of its stream."""

    device: torch.device

    def score(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]: ...


@runtime_checkable
class WindowData(Protocol):
    """What a holozero data module offers the model, the callbacks and the commands."""

    K: int
    val_sources: dict

    @property
    def text_layout(self) -> tuple[int, int] | None:
        """(context_bytes, stream_bytes) of the text windows: the layout generation uses."""

    @property
    def skipped_items(self) -> int: ...

    @property
    def batch_shapes(self) -> list[tuple[tuple[int, int], int, float]]:
        """[((B, window), stream_len, share of batches)] per training source, for FLOP counting."""
