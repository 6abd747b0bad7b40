"""The tables of docs/results/boundary_map_cpu.md, one per boundary, from a finished sweep of
configs/sweeps/boundary_map_cpu.yaml (read through ``holozero report``'s own collection, so
every number is the runs' own):

    python scripts/boundary_tables.py sweeps/map_cpu > tables.md
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from holozero.commands.report import arm_name, collect, summarize
from holozero.commands.sweep import arm_of

SEGMENTS = ("text", "caption", "audio", "frame")


def cell(row: dict, metric: str, paired: bool = True) -> str:
    c = row.get(metric)
    if not isinstance(c, dict) or math.isnan(c["mean"]):
        return "–"
    text = f"{c['mean']:.3f} ± {(c['high'] - c['mean']) if c['n'] > 1 else float('nan'):.3f}"
    if paired and c.get("paired"):
        text += f" (Δ {c['paired']['diff']:+.3f}, p={c['paired']['p']:.2g})"
    return text


def table(title: str, rows: list[dict], metrics: list[tuple[str, str]], note: str = "") -> str:
    out = [f"### {title}", ""] + ([note, ""] if note else [])
    out += ["| arm | n | " + " | ".join(h for h, _ in metrics) + " |", "|---" * (len(metrics) + 2) + "|"]
    for row in rows:
        n = max((row[m]["n"] for _, m in metrics if isinstance(row.get(m), dict)), default=0)
        out.append(f"| {row['arm']} | {n} | " + " | ".join(cell(row, m) for _, m in metrics) + " |")
    return "\n".join(out) + "\n"


def main() -> None:
    out = Path(sys.argv[1])
    spec, records = collect(out)
    rows = summarize(spec, records)
    arm = {r["arm"]: arm_of(next(x["run"] for x in records if arm_name(arm_of(x["run"])) == r["arm"])) for r in rows}

    def pick(**want):
        return [r for r in rows if all(arm[r["arm"]].get(k) == v for k, v in want.items())]

    small, large = {"flops": 3.0e12}, {"flops": 1.2e13}
    bpb = [(f"{s} bpb (test, whole)", f"eval/{s}_bpb") for s in SEGMENTS]
    gaps = [("audio gap (test)", "test/binding_gap/audio"), ("frame gap (test)", "test/binding_gap/frame")]
    five = ("zero", "hsl_proj", "byte_embed", "hash_ngram", "per_byte")
    cells = (
        "mean ± 95% half-interval over seeds; Δ = arm − zero at K=8 on the same seeds and every other axis, "
        "paired t-test p"
    )
    print(
        table(
            "Schedule: budget 3e12 FLOPs",
            [r for d in five for r in pick(door=d, budget=small, configs=[])],
            bpb + gaps,
            cells,
        )
    )
    print(
        table(
            "Schedule: budget 1.2e13 FLOPs (4×)",
            [r for d in five for r in pick(door=d, budget=large)],
            bpb + gaps,
            cells,
        )
    )
    body2 = [r for d in five for r in pick(door=d, budget={"flops": 6.0e12})]
    print(
        table(
            "Scale: 2× body parameters (4 layers), budget 6e12 (the same steps as 2 layers at 3e12)",
            body2,
            bpb + gaps,
            cells,
        )
    )
    kk = [
        r
        for d in ("zero", "byte_embed")
        for r in sorted(pick(door=d, budget=small, configs=[]), key=lambda r: arm[r["arm"]]["K"])
    ]
    print(table("K: zero and byte_embed, budget 3e12", kk, bpb + gaps, cells))
    geometry = ("zero", "random", "permuted", "raw_bits", "binary_codes", "learned_value")
    print(
        table(
            "Geometry at K=8, budget 3e12",
            [r for d in geometry for r in pick(door=d, K=8, budget=small, configs=[])],
            bpb + gaps,
            cells,
        )
    )


if __name__ == "__main__":
    main()
