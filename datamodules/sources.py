"""Window sources: how windows are cut from each kind of data.

- ``StreamSource``: anywhere in one id stream (text: documents joined by EOS).
- ``SequenceSource``: inside one item, at aligned starts (audio recordings, frame
  sequences); an item shorter than a window is rejected before it gets here.
- ``CaptionSource``: one window per captioned item, prefix ``[frame] SEP [audio] SEP``,
  stream ``[caption] EOS`` then PAD (PAD is never a target).

Each has ``sample(rng, n)`` for training and ``fixed(i, count)`` for validation.
"""

from __future__ import annotations

import math

import numpy as np

from holozero.donors import OtherCaptionDraw, caption_classes
from holozero.segments import as_batch
from holozero.specials import PAD


def _spread(i: int, count: int, span: int) -> int:
    """The i-th of ``count`` evenly spaced integers in [0, span]."""
    return 0 if count <= 1 else round(i * span / (count - 1))


class StreamSource:
    def __init__(self, stream, context: int, stream_len: int, segment: str = "text"):
        self.stream, self.context, self.stream_len, self.segment = stream, context, stream_len, segment
        self.window = context + stream_len
        self.span = len(stream) - self.window
        if self.span < 0:
            raise ValueError(f"the {segment} stream has {len(stream)} ids, fewer than one window of {self.window}")

    def _cut(self, starts: np.ndarray) -> dict:
        idx = starts[:, None] + np.arange(self.window)[None, :]
        return as_batch(np.asarray(self.stream[idx]), self.stream_len, self.segment)

    def sample(self, rng: np.random.Generator, n: int) -> dict:
        return self._cut(rng.integers(0, self.span + 1, size=n))

    def distinct_windows(self) -> int:
        return self.span + 1

    def fixed_count(self, budget_bytes: int) -> int:
        return max(1, math.ceil(budget_bytes / self.stream_len))

    def fixed(self, i: int, count: int) -> dict:
        return self._cut(np.array([_spread(i, count, self.span)]))


class SequenceSource:
    """Continuation windows inside items: prefix = the ``context`` bytes before the stream,
    stream = the ``stream_len`` bytes that follow. The stream starts at a multiple of
    ``align`` (a frame's size for frame sequences), so a streamed frame is always whole even
    when the context is not a whole number of frames."""

    def __init__(self, items: list[np.ndarray], context: int, stream_len: int, segment: str, align: int = 1):
        self.window, self.context = context + stream_len, context
        if not items:
            raise ValueError(f"no {segment} item is long enough for a window of {self.window} bytes")
        self.items, self.stream_len, self.segment, self.align = items, stream_len, segment, align
        self.first = -(-context // align) * align  # the first aligned stream start with a full context
        counts = np.array([(len(x) - stream_len - self.first) // align + 1 for x in items])
        if (counts < 1).any():
            raise ValueError(f"a {segment} item is shorter than a window of {self.window} bytes")
        self.offsets = np.concatenate([[0], np.cumsum(counts)])  # window j of all items: item by offsets

    @property
    def total(self) -> int:
        return int(self.offsets[-1])

    def distinct_windows(self) -> int:
        return self.total

    def locate(self, j: int) -> tuple[int, int]:
        """(item, start byte of the window) of window j of all items."""
        item = int(np.searchsorted(self.offsets, j, side="right") - 1)
        stream_start = self.first + (int(j) - int(self.offsets[item])) * self.align
        return item, stream_start - self.context

    def _cut(self, js: np.ndarray) -> dict:
        rows = []
        for j in js:
            item, start = self.locate(int(j))
            rows.append(self.items[item][start : start + self.window])
        return as_batch(np.stack(rows), self.stream_len, self.segment)

    def sample(self, rng: np.random.Generator, n: int) -> dict:
        return self._cut(rng.integers(0, self.total, size=n))  # uniform over every valid window

    def fixed_count(self, budget_bytes: int) -> int:
        return max(1, min(self.total, math.ceil(budget_bytes / self.stream_len)))

    def fixed(self, i: int, count: int) -> dict:
        return self._cut(np.array([_spread(i, count, self.total - 1)]))


class CaptionSource:
    """Captioned items as fixed-layout windows.

    ``prefix`` [N, C] and ``stream`` [N, S] id arrays are built by the data module; the
    conditioning parts are kept apart (``frame_slice``, ``audio_slice``) so probes can swap
    them between items. ``shuffle_captions`` pairs every training window with the caption of
    an item whose caption differs (never its own, nor that of another item of its label): the
    null control for binding (``holozero.donors.OtherCaptionDraw``).
    """

    def __init__(
        self, prefix: np.ndarray, stream: np.ndarray, labels: np.ndarray, frame_len: int, shuffle_captions: bool = False
    ):
        if len(prefix) < 1:
            raise ValueError("no captioned item")
        try:  # the draw of another caption, built once (None: matched windows)
            self.shuffle = OtherCaptionDraw(caption_classes(stream)) if shuffle_captions else None
        except ValueError as e:
            raise ValueError(f"shuffle_captions: {e}") from None
        self.prefix, self.stream, self.labels = prefix, stream, labels
        self.stream_len, self.segment = stream.shape[1], "caption"
        self.frame_slice = slice(0, frame_len)
        self.audio_slice = slice(frame_len + 1, prefix.shape[1] - 1)

    def __len__(self) -> int:
        return len(self.prefix)

    def distinct_windows(self) -> int:
        return len(self.prefix)

    def window(self, items: np.ndarray, captions: np.ndarray | None = None) -> dict:
        captions = items if captions is None else captions
        ids = np.concatenate([self.prefix[items], self.stream[captions]], axis=1)
        return as_batch(ids, self.stream_len, self.segment)

    def conditioned(
        self,
        items,
        captions=None,
        frame_from=None,
        audio_from=None,
        frame_fill: int | None = None,
        audio_fill: int | None = None,
    ) -> dict:
        """Windows with parts of the conditioning replaced: the frame and/or audio of donor
        items, or a constant (blank frame, silence) over the part's real (non-PAD) ids."""
        items = np.asarray(items)
        prefix = self.prefix[items].copy()
        for part, donors, fill in (
            (self.frame_slice, frame_from, frame_fill),
            (self.audio_slice, audio_from, audio_fill),
        ):
            if donors is not None:
                prefix[:, part] = self.prefix[np.asarray(donors), part]
            if fill is not None:
                prefix[:, part] = np.where(prefix[:, part] == PAD, PAD, fill)
        captions = items if captions is None else np.asarray(captions)
        return as_batch(np.concatenate([prefix, self.stream[captions]], axis=1), self.stream_len, self.segment)

    def has_part(self, part: str) -> np.ndarray:
        """[N] bool: the item has a real frame / audio (not all PAD)."""
        sl = self.frame_slice if part == "frame" else self.audio_slice
        return (self.prefix[:, sl] != PAD).any(axis=1)

    def sample(self, rng: np.random.Generator, n: int) -> dict:
        items = rng.integers(0, len(self), size=n)
        if self.shuffle is None:
            return self.window(items)
        return self.window(items, self.shuffle(rng, items))

    def fixed_count(self, budget_bytes: int) -> int:
        return max(1, min(len(self), math.ceil(budget_bytes / self.stream_len)))

    def fixed(self, i: int, count: int) -> dict:
        return self.window(np.array([_spread(i, count, len(self) - 1)]))
