"""The binding gap over captioned items (DESIGN.md §5): each item's caption is scored with its
own conditioning and with the frame, the audio, or both taken from a donor item chosen by a
fixed derangement (never itself). The difference is how much the caption depends on the
conditioning the model was given."""

from __future__ import annotations

import numpy as np

from .metrics import BindingGap
from .protocols import CaptionWindows, Scorer


def fixed_derangement(n: int, seed: int = 0) -> np.ndarray:
    """A seeded permutation with no fixed point (Sattolo's algorithm: one n-cycle), so
    every item gets a donor that is never itself."""
    if n < 2:
        raise ValueError(f"a derangement needs at least 2 items, got {n}")
    rng = np.random.default_rng(seed)
    p = np.arange(n)
    for i in range(n - 1, 0, -1):
        j = int(rng.integers(0, i))  # j < i: this is what rules out fixed points
        p[i], p[j] = p[j], p[i]
    return p


def binding_gap(
    scorer: Scorer, source: CaptionWindows, max_items: int = 512, batch_size: int = 64, seed: int = 0
) -> dict:
    """Evaluate the gap over (up to ``max_items``) items of ``source``: each item's caption is
    scored with its own conditioning and with the frame, the audio, or both taken from a
    fixed derangement donor (never itself)."""
    n = min(len(source), max_items)
    if n < 2:
        return {}
    items = np.linspace(0, len(source) - 1, n).round().astype(np.int64)
    donors = items[fixed_derangement(n, seed)]
    metric = BindingGap().to(scorer.device)
    for lo in range(0, n, batch_size):
        it, dn = items[lo : lo + batch_size], donors[lo : lo + batch_size]
        matched, targets = scorer.score(source.conditioned(it))
        swapped = {
            "both": scorer.score(source.conditioned(it, frame_from=dn, audio_from=dn))[0],
            "audio": scorer.score(source.conditioned(it, audio_from=dn))[0],
            "frame": scorer.score(source.conditioned(it, frame_from=dn))[0],
        }
        metric.update(matched, swapped, targets)
    return {k: float(v) for k, v in metric.compute().items()} | {"binding_gap/items": n}
