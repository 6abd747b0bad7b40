"""Segments: what kind of bytes a window's stream holds (DESIGN.md §5), and batches of windows.

Every stream byte carries a segment code, so one bpb metric reports text, caption, audio and
frame bytes apart. A batch is a dict ``{"ids": LongTensor [B, C+S], "segment": LongTensor [B, S]}``:
prefix bytes then stream bytes, and the segment code of every stream byte.
"""

from __future__ import annotations

import numpy as np
import torch

SEGMENTS = ("text", "caption", "audio", "frame")  # segment codes 0..3 of every stream byte
# Windows whose prefix *conditions* the stream (a caption's frame and audio) rather than
# continuing it (text, audio and frame continuations): a byte LM that reads the whole window
# trains on the prefix of a continuation window, but not on the conditioning of these.
CONDITIONED = ("caption",)


def as_batch(ids: np.ndarray, stream_len: int, segment: str) -> dict:
    """[B, C+S] window ids -> a batch whose last ``stream_len`` ids are ``segment`` bytes."""
    ids = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64))
    seg = torch.full((ids.shape[0], stream_len), SEGMENTS.index(segment), dtype=torch.long)
    return {"ids": ids, "segment": seg}
