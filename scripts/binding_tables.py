"""The tables of docs/results/binding_quickstart.md from a run and its shuffled-caption control.

    python scripts/binding_tables.py RUN CONTROL    # each a Lightning run folder (lightning_logs/version_0)

after ``holozero fit`` and ``holozero test`` of both (the test writes into the run's folder). The
gap table reads the logged ``val/`` and ``test/`` binding gaps (TensorBoard events): each gap
pooled by bytes with its own 95% interval, and the per-item mean with its own; the probe table
reads the test probes' JSON beside the last checkpoint (retrieval with its null, media blanked).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from holozero.commands.events import read_scalars

VARIANTS = ("audio", "frame", "both")
PROBES = (
    "same_class_wrong_instance",
    "same_length_caption",
    "entropy_matched_caption",
    "blank_audio",
    "blank_frame",
    "retrieval",
    "shifted_window/audio",
    "shifted_window/frames",
)


def at(scalars: dict, tag: str, step: int) -> float:
    """The value of ``tag`` logged at ``step`` (validation, test and the checkpoint share one step)."""
    return dict(scalars.get(tag, [])).get(step, float("nan"))


def gap_rows(label: str, scalars: dict) -> list[str]:
    val_steps = sorted({s for s, _ in scalars.get("val/binding_gap/audio", [])})
    rows = []
    for split, steps in (("val", val_steps), ("**test**", val_steps[-1:])):
        tag = split.strip("*")
        for step in steps:
            cells = [label, split, str(step), f"{at(scalars, f'{tag}/caption_bpb', step):.3f}"]
            for v in VARIANTS:
                base = f"{tag}/binding_gap/{v}"
                items = at(scalars, f"{base}/items", step)
                n = f" ({items:.0f})" if tag == "test" and items == items else ""
                for point in (base, f"{base}/item_mean"):  # each figure beside its own interval
                    value, low, high = (at(scalars, f"{point}{k}", step) for k in ("", "/low", "/high"))
                    cells.append(f"{value:+.3f} [{low:+.3f}, {high:+.3f}]{n if point == base else ''}")
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def probes(run: Path) -> dict:
    files = sorted((run / "checkpoints" / "probes").glob("test-step*.json"))
    if not files:
        raise SystemExit(f"{run}: no test probe file (run `holozero test` on its last checkpoint)")
    latest = max(files, key=lambda f: int(f.stem.removeprefix("test-step")))  # by step, not by name
    return json.loads(latest.read_text())["probes"]


def probe_cell(p: dict) -> tuple[str, str]:
    if "R@1" in p:
        null = f"{p['null_R@1']:.3f}, {p['null_R@5']:.3f}, {p['null_MRR']:.3f}"
        return str(p["n"]), f"{p['R@1']:.3f}, {p['R@5']:.3f}, {p['MRR']:.3f} (null {null})"
    return str(p["n"]), f"{p['mean']:+.3f} [{p['low']:+.3f}, {p['high']:+.3f}]"


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    run, control = Path(sys.argv[1]), Path(sys.argv[2])
    print(
        "| run | split | step | caption bpb | gap audio [95%] | item mean [95%] | gap frame [95%] "
        "| item mean [95%] | gap both [95%] | item mean [95%] |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, folder in (("quickstart", run), ("+ shuffle_captions", control)):
        print("\n".join(gap_rows(label, read_scalars(folder))))
    print("\n| probe | quickstart: items | figure [95%] | control: items | figure [95%] |")
    print("|---|---|---|---|---|")
    ours, theirs = probes(run), probes(control)
    for name in PROBES:
        label = "retrieval (R@1, R@5, MRR; null: media blanked)" if name == "retrieval" else name
        print(f"| {label} | " + " | ".join(probe_cell(ours[name]) + probe_cell(theirs[name])) + " |")


if __name__ == "__main__":
    main()
