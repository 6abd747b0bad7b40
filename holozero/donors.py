"""Donors for mismatched pairs: which item lends its conditioning (or its caption) to another."""

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
