"""Donors for mismatched pairs: which item lends its conditioning (or its caption) to another.

A mismatch must change the caption, not only the item: two items of one label have one caption,
so "another item" can still be "the right caption". Items are grouped by their caption (the
same stream ids), and every donor is drawn from another group.
"""

from __future__ import annotations

import numpy as np


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


def caption_classes(stream: np.ndarray) -> np.ndarray:
    """[N] int: one class per distinct caption (rows of identical stream ids)."""
    return np.unique(np.asarray(stream), axis=0, return_inverse=True)[1].reshape(-1)


def _check(classes: np.ndarray) -> None:
    if len(np.unique(classes)) < 2:
        raise ValueError(f"at least 2 distinct captions are needed, got {len(classes)} items with one caption")


def different_caption_donors(classes, seed: int = 0) -> np.ndarray:
    """[N] donor of each item, fixed by ``seed``, whose class (caption) differs from the item's.

    It starts from ``fixed_derangement`` (so items with distinct captions keep exactly its
    donors) and repairs each item whose donor shares its caption by swapping donors with a
    seeded partner for which both new pairs differ. Such a partner always exists while no
    caption has more than half the items (an item of caption c has n - |c| items of other
    captions, at most |c| - 1 of which hold a donor of c), and every swap removes a clash, so
    the donors stay a permutation: each item lends its conditioning exactly once, and the
    mismatched conditionings are the matched ones re-paired. Beyond half no such permutation
    exists; the items left draw a donor among those of other captions (one may lend twice)."""
    classes = np.asarray(classes)
    _check(classes)
    n = len(classes)
    p = fixed_derangement(n, seed)
    rng = np.random.default_rng([seed, n])
    for i in np.flatnonzero(classes[p] == classes):
        c = classes[i]
        if classes[p[i]] != c:  # an earlier swap repaired it
            continue
        partners = np.flatnonzero((classes != c) & (classes[p] != c))
        if len(partners):
            j = int(rng.choice(partners))
            p[i], p[j] = p[j], p[i]
        else:
            p[i] = int(rng.choice(np.flatnonzero(classes != c)))
    return p


class OtherCaptionDraw:
    """Per training window, a caption drawn uniformly from the items whose caption differs
    from the window's item (the shuffled-caption control: never the right caption)."""

    def __init__(self, classes):
        classes = np.asarray(classes)
        _check(classes)
        self.order = np.argsort(classes, kind="stable")  # items grouped by caption, one block each
        self.sizes = np.bincount(classes)
        self.starts = np.cumsum(self.sizes) - self.sizes
        self.classes = classes

    def __call__(self, rng: np.random.Generator, items: np.ndarray) -> np.ndarray:
        c = self.classes[items]
        r = rng.integers(0, len(self.classes) - self.sizes[c])  # a position outside the item's block
        return self.order[r + self.sizes[c] * (r >= self.starts[c])]
