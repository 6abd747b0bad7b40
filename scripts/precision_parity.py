"""bf16-mixed against float32, paired by seed (issue #27): the table and the verdict of a sweep of
configs/sweeps/precision_parity.yaml.

    python scripts/precision_parity.py sweeps/parity

Per figure (whole-test-split bpb per segment from holozero evaluate, test binding gaps from
holozero test; every one scored in float32): each arm's mean and seed-to-seed standard deviation,
the paired difference bf16 − float32 with its 95% t-interval over seeds. The rule: bf16-mixed
is at parity when every segment's |Δ| is within the seed-to-seed spread (the larger of the two
arms' standard deviations) and the text |Δ| is at most 0.02 bpb.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from holozero.commands.report import collect  # noqa: E402
from holozero.stats import mean_interval  # noqa: E402

FIGURES = [
    ("text bpb", "eval/text_bpb"),
    ("caption bpb", "eval/caption_bpb"),
    ("audio bpb", "eval/audio_bpb"),
    ("frame bpb", "eval/frame_bpb"),
    ("binding gap (both)", "test/binding_gap/both"),
    ("binding gap (audio)", "test/binding_gap/audio"),
    ("binding gap (frame)", "test/binding_gap/frame"),
]
SEGMENTS = {"text bpb", "caption bpb", "audio bpb", "frame bpb"}
TEXT_LIMIT = 0.02


def by_seed(records: list[dict], bf16: bool, tag: str) -> dict[int, float]:
    out = {}
    for rec in records:
        is_bf16 = any("bf16" in str(c) for c in rec["run"].get("configs", []))
        if rec["status"] == "done" and is_bf16 == bf16 and tag in rec["final"]:
            out[rec["run"]["seed"]] = rec["final"][tag]
    return out


def compare(fp32: dict[int, float], bf16: dict[int, float]) -> dict | None:
    seeds = sorted(set(fp32) & set(bf16))
    if len(seeds) < 2:
        return None
    a, b = np.array([fp32[s] for s in seeds]), np.array([bf16[s] for s in seeds])
    diff = mean_interval(b - a)
    spread = float(max(a.std(ddof=1), b.std(ddof=1)))
    return {"seeds": seeds, "fp32": a, "bf16": b, "diff": diff, "spread": spread}


def table(records: list[dict]) -> tuple[str, bool]:
    lines = [
        "| figure | float32 mean ± sd | bf16-mixed mean ± sd | Δ bf16 − float32 [95% interval] | seed sd | within |",
        "|---|---|---|---|---|---|",
    ]
    parity = True
    for name, tag in FIGURES:
        c = compare(by_seed(records, False, tag), by_seed(records, True, tag))
        if c is None:
            continue
        d = c["diff"]
        within = abs(d["mean"]) <= c["spread"] and (name != "text bpb" or abs(d["mean"]) <= TEXT_LIMIT)
        if name in SEGMENTS:
            parity &= within
        lines.append(
            f"| {name} | {c['fp32'].mean():.4f} ± {c['fp32'].std(ddof=1):.4f} | {c['bf16'].mean():.4f} ± "
            f"{c['bf16'].std(ddof=1):.4f} | {d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] (n={d['n']}) | "
            f"{c['spread']:.4f} | {'yes' if within else 'NO'} |"
        )
    return "\n".join(lines), parity


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sweep", type=Path)
    args = p.parse_args()
    if not (args.sweep / "spec.yaml").is_file():
        p.error(f"{args.sweep} is not a sweep folder (no spec.yaml)")
    _, records = collect(args.sweep)
    text, parity = table(records)
    print(text)
    rule = f"every segment's |Δ| within the seed spread and text |Δ| ≤ {TEXT_LIMIT}"
    print(f"\nparity ({rule}): {'yes' if parity else 'NO'}")


if __name__ == "__main__":
    main()
