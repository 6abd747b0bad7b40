"""The metrics of a validate / test run, printed once as one table.

Lightning's own table has one column per evaluation loader; the mixture has four loaders and
every metric is logged once per epoch, so it printed each figure four times.
"""

from __future__ import annotations

import math


def _value(v) -> str:
    v = float(v)
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:.6g}"


def format_metrics(metrics: dict, title: str) -> str:
    rows = sorted((str(k), _value(v)) for k, v in metrics.items())
    if not rows:
        return f"{title}: no metrics logged"
    width = max(len("metric"), *(len(k) for k, _ in rows))
    lines = [title, f"  {'metric':<{width}}  value", f"  {'-' * width}  {'-' * 10}"]
    lines += [f"  {k:<{width}}  {v}" for k, v in rows]
    return "\n".join(lines)
