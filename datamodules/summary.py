"""The dataset summary printed once at setup (and logged to TensorBoard): per modality and
split, what was kept and what was cut, so nothing is dropped without a number beside it."""

from __future__ import annotations

from .splits import SPLITS


def format_summary(summary: dict) -> str:
    """A plain-text table: one block per modality, one column per split."""
    lines = []
    for modality, rows in summary.items():
        if not isinstance(rows, dict):
            lines.append(f"{modality}: {rows}")
            continue
        figures = list(dict.fromkeys(k for s in SPLITS for k in rows.get(s, {})))
        width = max(len(f) for f in figures)
        lines.append(f"{modality:<{width}}  " + "  ".join(f"{s:>12}" for s in SPLITS))
        for f in figures:
            cells = [rows.get(s, {}).get(f, "") for s in SPLITS]
            lines.append(f"  {f:<{width - 2}}  " + "  ".join(f"{_cell(c):>12}" for c in cells))
    return "\n".join(lines)


def summary_scalars(summary: dict) -> dict[str, float]:
    """``data/<modality>/<split>/<figure>`` for every number of the summary."""
    out = {}
    for modality, rows in summary.items():
        if isinstance(rows, dict):
            for split, figures in rows.items():
                for figure, value in figures.items():
                    if isinstance(value, int | float):
                        out[f"data/{modality}/{split}/{figure.replace(' ', '_')}"] = float(value)
        elif isinstance(rows, int | float):
            out[f"data/{modality.replace(' ', '_')}"] = float(rows)
    return out


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
