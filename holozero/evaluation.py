"""The evaluation protocol (DESIGN.md §5): a whole split scored, every byte exactly once.

A sequence (a text split's id stream, one recording, one clip) is scored with sliding
windows: window t scores the bytes [t·stride, (t+1)·stride) of the sequence (the tail
included), conditioned on the ``context`` ids before them. The first window scores from the
sequence's start, conditioned on one boundary id (EOS, the id that separates documents in
training), so byte 0 is scored too. A packed model lays each window out as training did:
whole K-byte slots of the conditioning in the prefix, the rest of the conditioning at the
head of the stream, the scored bytes after it. A captioned item is one window, its caption
scored under its own conditioning. ``bytes_scored`` is counted from what was scored and
checked against ``bytes_in_split``, counted from the data: they must be equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np
import torch

from .metrics import BitsPerByte
from .protocols import CaptionWindows, SequenceWindows, StreamWindows, WindowModel
from .segments import SEGMENTS
from .specials import EOS, NUM_BYTES, PAD


class AuditError(AssertionError):
    """The bytes scored are not the bytes of the split: a bug, never a rounding."""


def windows(length: int, context: int, stride: int) -> list[tuple[int, int, int]]:
    """(conditioning start, scored start, scored end) in the coordinates of ``[EOS] + sequence``
    for a sequence of ``length`` ids: scored ranges tile 1..length exactly once."""
    if context < 1 or stride < 1:
        raise ValueError(f"context and stride must be ≥ 1, got {context}, {stride}")
    return [(max(0, s - context), s, min(s + stride, length + 1)) for s in range(1, length + 1, stride)]


def layout(conditioning: int, K: int, per_byte: bool) -> int:
    """Prefix length (ids in whole slots) of a window with ``conditioning`` ids before its
    scored bytes: training's layout, full slots first, the rest in the stream."""
    return 0 if per_byte else conditioning // K * K


@torch.no_grad()  # every scoring forward: a kept graph would hold every layer's activations (GBs per-byte)
def _score(net: WindowModel, ids: torch.Tensor, prefix_len: int, n_scored: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Nats and targets of the last ``n_scored`` ids of each window in ``ids`` [B, W]."""
    W = ids.shape[1]
    if net.per_byte:
        targets = ids[:, W - n_scored :]
    elif prefix_len == 0:  # no slot: the stream's first id has no predictor, ids 1.. are scored
        targets = ids[:, 1:]
    else:
        targets = ids[:, prefix_len:]
    nats = net(ids, W - prefix_len, targets)[1]
    return nats[:, -n_scored:], targets[:, -n_scored:]


def _device(net) -> torch.device:
    return next(net.parameters()).device


def evaluate_sequences(
    net: WindowModel,
    sequences: Iterable[np.ndarray],
    segment: str,
    context: int,
    stride: int,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Whole-sequence sliding-window bpb over ``sequences`` (bytes, and EOS between documents)."""
    K, per_byte, device = net.door.K, net.per_byte, _device(net)
    groups: dict[tuple[int, int, int], list[np.ndarray]] = defaultdict(list)  # same shape -> one batch
    in_split = 0
    for seq in sequences:
        seq = np.asarray(seq, dtype=np.int64)
        in_split += int((seq < NUM_BYTES).sum())
        full = np.concatenate([[EOS], seq])
        for c0, s, e in windows(len(seq), context, stride):
            groups[(layout(s - c0, K, per_byte), e - c0, e - s)].append(full[c0:e])
    metric = BitsPerByte().to(device)
    code = SEGMENTS.index(segment)
    for (prefix_len, _, n_scored), rows in groups.items():
        for lo in range(0, len(rows), batch_size):
            ids = torch.from_numpy(np.stack(rows[lo : lo + batch_size])).to(device)
            nats, targets = _score(net, ids, prefix_len, n_scored)
            metric.update(nats, targets, torch.full_like(targets, code))
            if progress is not None:
                progress(ids.shape[0])
    return _result(metric, segment, in_split, context, stride)


def evaluate_captions(
    net: WindowModel,
    source: CaptionWindows,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Every caption byte of ``source``, once, under its own item's conditioning."""
    device = _device(net)
    metric = BitsPerByte().to(device)
    S = source.stream.shape[1]
    for lo in range(0, len(source), batch_size):
        batch = source.conditioned(np.arange(lo, min(lo + batch_size, len(source))))
        ids = batch["ids"].to(device)
        nats, targets = _score(net, ids, ids.shape[1] - S, S)  # the prefix conditions, the stream is scored
        metric.update(nats, targets, batch["segment"].to(device))
        if progress is not None:
            progress(ids.shape[0])
    in_split = int((source.stream < NUM_BYTES).sum())
    return _result(metric, "caption", in_split, source.prefix.shape[1], S)


def _result(metric: BitsPerByte, segment: str, in_split: int, context: int, stride: int) -> dict:
    values = metric.compute()
    scored = int(values["bytes_scored"])
    if scored != in_split:
        raise AuditError(f"{segment}: scored {scored} bytes but the split holds {in_split}")
    return {
        "bpb": float(values[f"{segment}_bpb"]) if scored else float("nan"),
        "bytes_scored": scored,
        "bytes_in_split": in_split,
        "context": context,
        "stride": stride,
    }


def split_bytes(source) -> bytes:
    """The byte targets a source's split holds, concatenated (what the floors compress)."""
    if isinstance(source, CaptionWindows):
        stream = source.stream
        return bytes(stream[(stream < NUM_BYTES) & (stream != PAD)].astype(np.uint8))
    if isinstance(source, SequenceWindows):
        return b"".join(bytes(np.asarray(x)[np.asarray(x) < NUM_BYTES].astype(np.uint8)) for x in source.items)
    stream = np.asarray(source.stream)
    return bytes(stream[stream < NUM_BYTES].astype(np.uint8))


def evaluate_source(
    net: WindowModel,
    source,
    context: int | None = None,
    stride: int | None = None,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """The whole split behind one window source; context and stride default to the source's
    training layout (its prefix length and its stream length)."""
    if isinstance(source, CaptionWindows):
        return evaluate_captions(net, source, batch_size, progress)
    context = context or source.context
    stride = stride or source.stream_len
    if isinstance(source, SequenceWindows):
        return evaluate_sequences(net, source.items, source.segment, context, stride, batch_size, progress)
    if isinstance(source, StreamWindows):
        return evaluate_sequences(net, [source.stream], source.segment, context, stride, batch_size, progress)
    raise TypeError(f"cannot evaluate a {type(source).__name__}")


def window_count(source, context: int | None = None, stride: int | None = None) -> int:
    """How many windows ``evaluate_source`` scores (for a progress bar)."""
    if isinstance(source, CaptionWindows):
        return len(source)
    stride = stride or source.stream_len
    items = source.items if isinstance(source, SequenceWindows) else [source.stream]
    return sum(-(-len(x) // stride) for x in items)
