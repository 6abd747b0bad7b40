"""Whether captioned data fits its window, and what window would fit it (issue #26).

The dataset summary counts what a window keeps and cuts; these warnings say it when most of
it is lost: when the windows keep under half of the items' audio (from where each recording's
audio starts), or cut more than a tenth of the captions. Each names the component and its
figures, and suggests ``audio_bytes`` / ``caption_bytes`` from the data's own lengths: the
length that keeps 90% of the items whole, and the whole-K-slot prefix that ``audio_bytes``
implies (a captioned prefix is ``frame SEP audio SEP``).
"""

from __future__ import annotations

import numpy as np

from .captioned import COUNTS

KEEP_AT_LEAST = 0.5  # of the items' audio: under it, the window loses most of each recording
CUT_AT_MOST = 0.1  # of the captions: over it, the stream often ends inside a caption
WHOLE = 0.9  # a suggested length keeps this share of the items whole


def _column(counts: np.ndarray, name: str) -> np.ndarray:
    return counts[:, COUNTS.index(name)].astype(np.int64)


def _length_for(lengths: np.ndarray) -> int:
    """The shortest length that holds ``WHOLE`` of these lengths whole."""
    return int(np.quantile(lengths, WHOLE, method="higher"))


def audio_warning(name: str, counts: np.ndarray, audio_bytes: int, frame_len: int, K: int, rate: int) -> str | None:
    kept, cut = _column(counts, "audio_kept"), _column(counts, "audio_cut")
    lengths = (kept + cut)[kept + cut > 0]  # each recording's audio from its start; items without audio aside
    if lengths.size == 0 or kept.sum() >= KEEP_AT_LEAST * lengths.sum():
        return None
    fixed = frame_len + 2  # the frame and the two SEPs around the audio
    prefix = -(-(fixed + _length_for(lengths)) // K) * K  # whole K-byte slots
    suggested = prefix - fixed
    share = np.minimum(lengths, suggested).sum() / lengths.sum()
    return (
        f"{name}: the windows keep {kept.sum() / rate:,.2f} s of the items' {lengths.sum() / rate:,.2f} s of audio "
        f"({kept.sum() / lengths.sum():.1%}; audio_bytes {audio_bytes:,} = {audio_bytes / rate * 1000:,.0f} ms at "
        f"{rate:,} Hz); audio_bytes {suggested:,} keeps {np.mean(lengths <= suggested):.0%} of the {lengths.size:,} "
        f"recordings whole and {share:.1%} of the audio (a prefix of {prefix:,} ids: {prefix // K:,} slots of K={K})"
    )


def caption_warning(name: str, counts: np.ndarray, caption_bytes: int) -> str | None:
    kept, cut = _column(counts, "caption_kept"), _column(counts, "caption_cut")
    n_cut, lengths = int((cut > 0).sum()), kept + cut
    if lengths.size == 0 or (n_cut <= CUT_AT_MOST * lengths.size and kept.sum() >= KEEP_AT_LEAST * lengths.sum()):
        return None
    suggested = _length_for(lengths) + 1  # the caption's bytes and its EOS
    return (
        f"{name}: {n_cut:,} of {lengths.size:,} captions ({n_cut / lengths.size:.1%}) are cut at caption_bytes "
        f"{caption_bytes} ({caption_bytes - 1} bytes and EOS), {cut.sum():,} of their {lengths.sum():,} bytes; "
        f"caption_bytes {suggested} keeps {np.mean(lengths < suggested):.0%} of the captions whole, "
        f"{int(lengths.max()) + 1} every one"
    )


def captioned_warnings(name: str, counts: np.ndarray, layout, K: int) -> list[str]:
    """The warnings for captioned items' ``counts`` (``captioned.COUNTS``, one row an item, every
    split) under ``layout`` (``audio_bytes``, ``caption_bytes``, ``frame_len``, ``sample_rate``)."""
    found = [
        audio_warning(name, counts, layout.audio_bytes, layout.frame_len, K, layout.sample_rate),
        caption_warning(name, counts, layout.caption_bytes),
    ]
    return [w for w in found if w]
