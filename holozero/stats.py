"""Small, exact statistics for reports and probes: t-intervals, paired differences and
retrieval figures."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_interval(values, level: float = 0.95) -> dict:
    """Mean with a two-sided Student-t interval over independent values (items, seeds)."""
    x = np.asarray(values, dtype=np.float64)
    n = int(x.size)
    if n == 0:
        return {"mean": math.nan, "low": math.nan, "high": math.nan, "n": 0}
    mean = float(x.mean())
    if n == 1:
        return {"mean": mean, "low": math.nan, "high": math.nan, "n": 1}
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": n}


def paired_difference(a: dict, b: dict) -> dict | None:
    """Mean of a − b over the keys (seeds) both have, with a paired t-test p; None under 2
    pairs. Identical pairs give p = 1, a constant non-zero difference p = 0."""
    keys = [k for k in a if k in b]
    if len(keys) < 2:
        return None
    x, y = np.array([a[k] for k in keys], dtype=np.float64), np.array([b[k] for k in keys], dtype=np.float64)
    diff = x - y
    p = float(stats.ttest_rel(x, y).pvalue) if np.std(diff) > 0 else (1.0 if np.all(diff == 0) else 0.0)
    return {"diff": float(diff.mean()), "p": p, "n": len(keys)}


def retrieval_figures(ranks, candidates: int) -> dict:
    """R@1, R@5 and MRR from the 1-based rank of the true item among ``candidates``. No chance
    level beside them: a random ranking's 1/N is not what a scorer blind to the query gets, so
    the probes measure their null (holozero.probes)."""
    r = np.asarray(ranks, dtype=np.float64)
    return {
        "R@1": float((r <= 1).mean()),
        "R@5": float((r <= 5).mean()),
        "MRR": float((1.0 / r).mean()),
        "candidates": candidates,
        "n": int(r.size),
    }
